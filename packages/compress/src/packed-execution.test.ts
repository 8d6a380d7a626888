// Compressed-model execution: a container loaded with `packed: true` keeps its compressed linears packed and runs
// them through the backend's compressed kernels; its perplexity must equal the decode-then-dense path (issue #6).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { evaluatePerplexity, loadModel } from '@sparq/lm';
import { createReferenceBackend, type Backend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { compressModel } from './compress';
import { validateRecipe } from './recipe';

const MODEL = () => sharedPath('models', 'stories260K', 'stories260K.bin');
const TEXT = () => readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8');
const root = mkdtempSync(join(tmpdir(), 'sparq-packed-'));
const backends: Backend[] = [];
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  for (const b of backends) await b.dispose();
});

const CAL = { source: 'self', samples: 4, seqlen: 32, seed: 0 };
const CASES = [
  { name: 'gptq w4 per-channel', kind: 'quant', stages: [{ type: 'quantize', method: 'gptq', bits: 4, group: -1 }] },
  { name: 'sparsegpt 2:4', kind: 'nm', stages: [{ type: 'prune', method: 'sparsegpt', pattern: '2:4' }] },
  { name: 'sparsegpt 2:4 + joint w4', kind: 'nm-quant', stages: [{ type: 'joint', pattern: '2:4', bits: 4, group: -1 }] },
  // 8-bit: the Q8 and N:M + 8-bit kernels (GEMV per row up to 16 rows; these windows take the GEMMs).
  { name: 'gptq w8 per-channel', kind: 'quant', stages: [{ type: 'quantize', method: 'gptq', bits: 8, group: -1 }] },
  { name: 'sparsegpt 2:4 + joint w8', kind: 'nm-quant', stages: [{ type: 'joint', pattern: '2:4', bits: 8, group: -1 }] },
  // 4:8 (the any-N:M kernels); down_proj's 172 inputs are not a multiple of 8, so it stays dense.
  { name: 'sparsegpt 4:8', kind: 'nm', stages: [{ type: 'prune', method: 'sparsegpt', pattern: '4:8' }], ignore: ['*.mlp.down_proj'] },
  { name: 'sparsegpt 4:8 + joint w4', kind: 'nm-quant', stages: [{ type: 'joint', pattern: '4:8', bits: 4, group: -1 }], ignore: ['*.mlp.down_proj'] },
  // stories260K's down_proj reads 172 = 4 · 43 inputs: SpQR groups of 4 divide every layer.
  { name: 'spqr w3 g4', kind: 'spqr', stages: [{ type: 'quantize', method: 'spqr', bits: 3, group: 4 }] },
] as const;

describe('packed execution of sparq containers', () => {
  for (const c of CASES) {
    it(`${c.name}: packed kernels give the decode-then-dense perplexity (1e-4 relative), on reference and cpu-wasm`, async () => {
      const build = createReferenceBackend();
      const { model, tokenizer } = await loadModel(MODEL(), { backend: build, lazy: true });
      const out = join(root, c.name.replace(/[^a-z0-9]+/gi, '-'));
      await compressModel({ model, tokenizer, recipe: validateRecipe({ stages: c.stages, calibration: CAL, ...('ignore' in c ? { ignore: c.ignore } : {}) }), out, errorStats: 'needed', tokenizerFiles: [sharedPath('models', 'stories260K', 'tok512.bin')] });
      await model.dispose();
      for (const make of [() => createReferenceBackend(), () => createCpuWasmBackend({ threads: 2 })]) {
        const backend = make();
        backends.push(backend);
        await backend.init();
        const dense = await loadModel(out, { backend });
        const packed = await loadModel(out, { backend, packed: true });
        // The packed model really holds packed weights of the expected kind (and no f32 copy was needed to run).
        const l = await packed.model.loadBlock(0);
        expect(l.q.packed?.kind).toBe(c.kind);
        const a = await evaluatePerplexity(dense.model, dense.tokenizer, TEXT(), { docSeparator: '<|endoftext|>' });
        const b = await evaluatePerplexity(packed.model, packed.tokenizer, TEXT(), { docSeparator: '<|endoftext|>' });
        expect(b.tokens).toBe(a.tokens);
        expect(Math.abs(b.perplexity - a.perplexity) / a.perplexity, `${backend.name}: ${a.perplexity} vs ${b.perplexity}`).toBeLessThan(1e-4);
        await dense.model.dispose();
        await packed.model.dispose();
      }
    });
  }
});
