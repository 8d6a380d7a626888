/**
 * Investigation behind docs/benchmarks/pruning.md ("SparseGPT vs Wanda at 50 %
 * unstructured"): per-row sparsity of SparseGPT's block-global unstructured
 * masks vs Wanda's per-row masks, and both at row-balanced 8:16, on stories260K
 * with the same 128 × 128 self-calibration (seed 0) as bench/tables.run.ts.
 * Run: npx vitest run --config bench/vitest.config.ts bench/row-balance.run.ts
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { openSparqContainer } from '@sparq/format';
import { evaluatePerplexity, loadModel } from '@sparq/lm';
import { sharedPath } from '@sparq/test-utils';
import { it } from 'vitest';
import { buildCalibration, compressModel, validateRecipe } from '../src/index';

it('row balance of SparseGPT / Wanda masks vs perplexity', async () => {
  const backend = createCpuWasmBackend({ threads: 2 });
  await backend.init();
  const HF = sharedPath('models', 'stories260K', 'hf');
  const TOK = sharedPath('models', 'stories260K', 'tok512.bin');
  const text = readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8');
  const tmp = mkdtempSync(join(tmpdir(), 'x-'));
  const calibration = { source: 'self', samples: 128, seqlen: 128, seed: 0, batchSize: 8 };
  const cm = await loadModel(HF, { backend, tokenizer: TOK, lazy: true });
  const calib = await buildCalibration(cm.model, cm.tokenizer, validateRecipe({ stages: [{ type: 'quantize', method: 'rtn' }], calibration }));
  await cm.model.dispose();
  const cfgs: [string, unknown[], unknown[]][] = [
    ['sparsegpt-50', [{ type: 'prune', method: 'sparsegpt', pattern: '50%' }], []],
    ['wanda-50', [{ type: 'prune', method: 'wanda', pattern: '50%' }], []],
    ['sparsegpt-8of16', [{ type: 'prune', method: 'sparsegpt', pattern: '8:16' }], [{ match: '*.down_proj', pattern: '2:4' }]],
    ['wanda-8of16', [{ type: 'prune', method: 'wanda', pattern: '8:16' }], [{ match: '*.down_proj', pattern: '2:4' }]],
  ];
  for (const [name, stages, overrides] of cfgs) {
    const out = join(tmp, name);
    const { model, tokenizer } = await loadModel(HF, { backend, tokenizer: TOK, lazy: true });
    const rep = await compressModel({ model, tokenizer, recipe: validateRecipe({ stages, overrides, calibration }), out, tokenizerFiles: [TOK], calibration: calib });
    await model.dispose();
    const m = await loadModel(out, { backend });
    const ppl = await evaluatePerplexity(m.model, m.tokenizer, text, { docSeparator: '<|endoftext|>' });
    await m.model.dispose();
    const c = await openSparqContainer(out);
    let minRow = 1, maxRow = 0, over80 = 0, rowsTot = 0;
    for (const l of rep.linears) {
      const w = (await c.readF32(`${l.name}.weight`)).data;
      for (let r = 0; r < l.rows; r++) {
        let z = 0;
        for (let j = 0; j < l.cols; j++) z += w[r * l.cols + j] === 0 ? 1 : 0;
        const f = z / l.cols;
        minRow = Math.min(minRow, f); maxRow = Math.max(maxRow, f); rowsTot++; if (f >= 0.8) over80++;
      }
    }
    await c.close();
    console.log(`${name}: ppl ${ppl.perplexity.toFixed(3)} relErr ${rep.totals.meanRelError!.toExponential(3)} row sparsity min ${minRow.toFixed(3)} max ${maxRow.toFixed(3)} rows≥80% ${over80}/${rowsTot}`);
  }
  rmSync(tmp, { recursive: true, force: true });
  await backend.dispose();
});
