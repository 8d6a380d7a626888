import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, openSparqContainer } from '@sparq/format';
import { CausalLM, evaluatePerplexity, loadModel, openHfWeights, readHfConfig, type Tokenizer } from '@sparq/lm';
import { createReferenceBackend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCalibration, compressModel, type CompressOptions, type CompressReport } from './compress';
import { hfFolderWriter } from './output';
import { validateRecipe, type Recipe } from './recipe';
import { WorkDir } from './work-dir';

const backend = createReferenceBackend();
const HF = () => sharedPath('models', 'stories260K', 'hf');
const TOK = () => sharedPath('models', 'stories260K', 'tok512.bin');
const TEXT = () => sharedPath('data', 'tinystories', 'tinystories_sample.txt');
const root = mkdtempSync(join(tmpdir(), 'sparq-compress-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await backend.dispose();
});

async function open(): Promise<{ model: CausalLM; tokenizer: Tokenizer }> {
  const { model, tokenizer } = await loadModel(HF(), { backend, tokenizer: TOK(), lazy: true });
  return { model, tokenizer };
}

/** Runs the driver on a fresh stories260K model. */
async function run(recipe: Recipe, out: string, extra: Partial<CompressOptions> = {}): Promise<CompressReport> {
  const { model, tokenizer } = await open();
  try {
    return await compressModel({ model, tokenizer, recipe, out, tokenizerFiles: [TOK()], ...extra });
  } finally {
    await model.dispose();
  }
}


/**
 * Independent check of the sequential protocol: walking the *compressed* model, the input each linear sees is exactly
 * what it saw when it was solved (earlier blocks and earlier sub-stages compressed). Accumulates H ∝ XᵀX here in
 * float64 and recomputes ‖WX − ŴX‖²/‖WX‖² against the dense weights for every reported linear.
 */
async function expectSequentialErrors(compressed: CausalLM, recipe: Recipe, report: CompressReport): Promise<void> {
  const { model: dense, tokenizer } = await open();
  const calib = await buildCalibration(dense, tokenizer, recipe);
  const H = new Map<string, Float64Array>();
  let h = await compressed.embed(calib.ids);
  for (let i = 0; i < compressed.numBlocks; i++) {
    h = await compressed.runBlock(i, h, {
      onLinearInput: (name, x) => {
        const cols = x.shape[1]!;
        const acc = new Float64Array(cols * cols);
        for (let t = 0; t < x.shape[0]!; t++) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) acc[a * cols + b] += x.data[t * cols + a]! * x.data[t * cols + b]!;
        H.set(name, acc);
      },
    });
  }
  for (const r of report.linears) {
    const W = (await dense.getLinearWeight(r.name)).data;
    const Wq = (await compressed.getLinearWeight(r.name)).data;
    const X = H.get(r.name)!;
    let num = 0;
    let den = 0;
    for (let row = 0; row < r.rows; row++) {
      for (let a = 0; a < r.cols; a++) {
        for (let b = 0; b < r.cols; b++) {
          const x = X[a * r.cols + b]!;
          num += (W[row * r.cols + a]! - Wq[row * r.cols + a]!) * (W[row * r.cols + b]! - Wq[row * r.cols + b]!) * x;
          den += W[row * r.cols + a]! * W[row * r.cols + b]! * x;
        }
      }
    }
    expect(Math.abs(r.relError! - num / den)).toBeLessThanOrEqual(1e-9 * (num / den));
    expect(r.relError).toBeGreaterThan(0);
    expect(r.relError).toBeLessThan(1);
  }
  await dense.dispose();
}

/** A CausalLM over the dense source whose compressed linears are replaced by the container's decoded weights. */
async function containerModel(out: string, names: readonly string[]): Promise<CausalLM> {
  const container = await openSparqContainer(out);
  const m = new CausalLM(await readHfConfig(HF()), await openHfWeights(HF()), backend);
  for (const n of names) await m.setLinearWeight(n, await container.readF32(`${n}.weight`));
  await container.close();
  return m;
}

const SMALL_CALIB = { source: '', samples: 4, seqlen: 32, seed: 1, batchSize: 2 };

describe('compressModel on stories260K', () => {
  // SparseGPT 2:4 then RTN W4 g32 (per-channel where 32 does not divide the input, i.e. down_proj's 172).
  const recipe = () =>
    validateRecipe({
      stages: [
        { type: 'prune', method: 'sparsegpt', pattern: '2:4' },
        { type: 'quantize', method: 'rtn', bits: 4, group: 32 },
      ],
      overrides: [{ match: '*.down_proj', group: -1 }],
      calibration: { ...SMALL_CALIB, source: TEXT() },
    });

  it('writes a container whose weights are 2:4 + 4-bit, and reports the true-sequential reconstruction errors', async () => {
    const out = join(root, 'sgpt24-w4');
    const events: string[] = [];
    const report = await run(recipe(), out, { onProgress: (p) => events.push(p.phase) });
    expect(report.output).toBe('sparq-container');
    expect(report.linears).toHaveLength(35);
    expect(report.resumedFromBlock).toBe(0);
    expect(report.calibration).toMatchObject({ source: 'text', samples: 4, seqlen: 32, seed: 1, bos: true });
    expect(report.totals.sparsity).toBe(0.5);
    expect(report.totals.peakRssBytes).toBeGreaterThan(0);
    expect(events).toContain('block-done');
    expect(existsSync(WorkDir.pathFor(out))).toBe(false); // resume folder removed on success

    // Exact bits/weight of 2:4 + INT4 (format §4), by hand per row:
    // cols 64: codes 32×4 bits = 16 B, indices 32×2 bits = 8 B, 2 f16 scales = 4 B, 2 zeros × 4 bits = 1 B → 29 B = 232 bits / 64.
    // cols 172 (per-channel): codes 86×4 bits = 43 B, indices 86×2 bits = 21.5 → 22 B, 1 scale = 2 B, 1 zero → 1 B → 68 B / 172.
    for (const r of report.linears) expect(r.bitsPerWeight).toBeCloseTo(r.cols === 64 ? 232 / 64 : (68 * 8) / 172, 12);

    const container = await openSparqContainer(out);
    const src = await openHfWeights(HF());
    const cfg = await readHfConfig(HF());
    const compressed = new CausalLM(cfg, src, backend);
    try {
      // Uncompressed tensors are copied bit for bit.
      for (const n of ['model.embed_tokens.weight', 'model.norm.weight', 'model.layers.2.input_layernorm.weight']) {
        expect(Array.from((await container.readF32(n)).data)).toEqual(Array.from((await src.read(n)).toF32().data));
      }
      for (const r of report.linears) {
        const w = await container.readF32(`${r.name}.weight`);
        // 2:4: at most 2 nonzeros in every group of 4 consecutive inputs (checked here, independently of the pruner).
        for (let row = 0; row < r.rows; row++) {
          for (let g = 0; g < r.cols; g += 4) {
            let nz = 0;
            for (let j = 0; j < 4; j++) nz += w.data[row * r.cols + g + j] !== 0 ? 1 : 0;
            expect(nz).toBeLessThanOrEqual(2);
          }
        }
        expect(container.entry(`${r.name}.weight`).kind).toBe('nm-quant');
        await compressed.setLinearWeight(r.name, w);
      }

      await expectSequentialErrors(compressed, recipe(), report);
    } finally {
      await container.close();
      await compressed.dispose();
    }
    const saved = JSON.parse(readFileSync(join(out, 'sparq-compress.json'), 'utf8'));
    expect(saved.recipe).toEqual(JSON.parse(JSON.stringify(recipe())));
    expect(saved.linears).toHaveLength(35);
  });

  it('SpQR: packed as spqr with outliers; bits/weight by hand from the stored components; sequential errors hold', async () => {
    const r = validateRecipe({
      stages: [{ type: 'quantize', method: 'spqr', bits: 3, group: 16, spqr: { outlierThreshold: 0.2, statBits: 3, statGroupRows: 16 } }],
      overrides: [{ match: '*.down_proj', group: 4 }],
      calibration: { ...SMALL_CALIB, source: TEXT() },
    });
    const out = join(root, 'spqr');
    const report = await run(r, out);
    const c = await openSparqContainer(out);
    let outliers = 0;
    for (const l of report.linears) {
      const e = c.entry(`${l.name}.weight`);
      expect(e.kind).toBe('spqr');
      const nnz = (e.record as { outliers?: number } | undefined)?.outliers;
      expect(typeof nnz).toBe('number');
      outliers += nnz!;
      // Stored bytes per §1/§2/§5/§6: codes rows×ceil(cols·3/8); two bilevel stats, each rows×ceil(G·3/8) code bytes plus
      // ceil(rows/16)×G f16 scale and f16 zero; outliers: u32 rowPtr[rows+1], u16 col and f16 value per outlier.
      const G = l.cols / l.groupSize!;
      const bytes = l.rows * Math.ceil((l.cols * 3) / 8) + 2 * (l.rows * Math.ceil((G * 3) / 8) + Math.ceil(l.rows / 16) * G * 4) + 4 * (l.rows + 1) + 4 * nnz!;
      expect(l.bitsPerWeight).toBeCloseTo((bytes * 8) / (l.rows * l.cols), 12);
    }
    expect(outliers).toBeGreaterThan(0);
    await c.close();
    const m = await containerModel(out, report.linears.map((l) => l.name));
    await expectSequentialErrors(m, r, report);
    await m.dispose();
  });

  it('resumes an interrupted run and produces bit for bit the uninterrupted output', async () => {
    const r = validateRecipe({ stages: [{ type: 'joint', pattern: '50%', bits: 4, group: 4 }], calibration: { ...SMALL_CALIB, source: TEXT() } });
    const whole = join(root, 'whole');
    const full = await run(r, whole, { writer: hfFolderWriter });
    expect(full.output).toBe('hf-folder');

    const parted = join(root, 'parted');
    const ac = new AbortController();
    await expect(run(r, parted, { writer: hfFolderWriter, signal: ac.signal, onBlockDone: (i) => i === 1 && ac.abort() })).rejects.toThrow();
    expect(existsSync(parted)).toBe(false);
    const state = JSON.parse(readFileSync(join(WorkDir.pathFor(parted), 'state.json'), 'utf8'));
    expect(state.completedBlocks).toBe(2);

    const replays: number[] = [];
    const resumed = await run(r, parted, { writer: hfFolderWriter, onProgress: (p) => p.phase === 'replay' && replays.push(p.block) });
    expect(resumed.resumedFromBlock).toBe(2);
    expect(replays).toEqual([0, 1]);
    expect(resumed.linears.map((l) => [l.name, l.relError])).toEqual(full.linears.map((l) => [l.name, l.relError]));
    expect(readFileSync(join(parted, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors')))).toBe(true);

    // The output is an ordinary HF folder: loadable with its copied tokenizer, and it computes something different from dense.
    const { model, tokenizer } = await loadModel(parted, { backend });
    const text = readFileSync(TEXT(), 'utf8');
    const ppl = await evaluatePerplexity(model, tokenizer, text, { docSeparator: '<|endoftext|>' });
    expect(Number.isFinite(ppl.perplexity)).toBe(true);
    const f = await openSafetensors(join(parted, 'model.safetensors'));
    const q = (await f.read('model.layers.0.self_attn.q_proj.weight')).data as Float32Array;
    expect(q.filter((v) => v === 0).length).toBeGreaterThanOrEqual(q.length / 2);
    await f.close();
    await model.dispose();
  });

  it('refuses an existing output and an interrupted run of different arguments; --no-resume starts over', async () => {
    const r = validateRecipe({ stages: [{ type: 'prune', method: 'magnitude', pattern: '2:4' }], calibration: { ...SMALL_CALIB, source: TEXT() } });
    const out = join(root, 'twice');
    await run(r, out);
    await expect(run(r, out)).rejects.toMatchObject({ code: 'E_ARG', message: expect.stringContaining('already exists') });

    const other = join(root, 'other');
    const ac = new AbortController();
    await expect(run(r, other, { signal: ac.signal, onBlockDone: () => ac.abort() })).rejects.toThrow();
    const r2 = validateRecipe({ stages: [{ type: 'prune', method: 'magnitude', pattern: '4:8' }], ignore: ['*.down_proj'], calibration: { ...SMALL_CALIB, source: TEXT() } });
    await expect(run(r2, other)).rejects.toMatchObject({ code: 'E_ARG', message: expect.stringContaining('different arguments') });
    const fresh = await run(r2, other, { resume: false });
    expect(fresh.resumedFromBlock).toBe(0);
    expect(fresh.dense).toHaveLength(5);
    expect(fresh.linears.every((l) => l.pattern === '4:8' && l.sparsity === 0.5)).toBe(true);
  });

  it('OPT (f16, biases): SparseGPT 2:4 stores f16 values at 9 bits/weight, copies biases; GPT-2 Conv1D is refused', async () => {
    const dir = sharedPath('reference', 'tiny', 'opt');
    const model = new CausalLM(await readHfConfig(dir), await openHfWeights(dir), backend);
    const stories = await open();
    const tokenizer = stories.tokenizer; // unused: the calibration below is given (synthetic ids within OPT's vocabulary)
    await stories.model.dispose();
    const recipe = validateRecipe({ stages: [{ type: 'prune', method: 'sparsegpt', pattern: '2:4' }], calibration: { source: 'self', samples: 3, seqlen: 16, seed: 0 } });
    let x = 12345;
    const ids = Array.from({ length: 3 }, () => [2, ...Array.from({ length: 15 }, () => (x = (x * 1103515245 + 12345) % 2 ** 31) % 256)]);
    const calibration = { source: 'self' as const, samples: 3, seqlen: 16, seed: 0, bos: true, ids, description: 'synthetic ids' };
    const out = join(root, 'opt-24');
    const report = await compressModel({ model, tokenizer, recipe, out, calibration });
    await model.dispose();
    expect(report.linears.map((l) => l.name.replace(/^model\.decoder\.layers\.0\./, ''))).toEqual(
      expect.arrayContaining(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj', 'fc1', 'fc2']),
    );
    expect(report.linears).toHaveLength(12);
    const c = await openSparqContainer(out);
    const src = await openHfWeights(dir);
    for (const l of report.linears) {
      expect(l.bitsPerWeight).toBe(9); // f16 values × ½ + 2-bit indices × ½
      expect(c.entry(`${l.name}.weight`).record).toMatchObject({ kind: 'nm', n: 2, m: 4, value_dtype: 'f16' });
      const bias = await c.readTensor(`${l.name}.bias`);
      expect(bias.dtype).toBe('f16');
      expect(Array.from(bias.data as Uint16Array)).toEqual(Array.from((await src.read(`${l.name}.bias`)).data as Uint16Array));
      expect(l.relError).toBeGreaterThan(0);
      expect(l.relError).toBeLessThan(1);
    }
    await c.close();
    await src.close();

    const gdir = sharedPath('reference', 'tiny', 'gpt2');
    const gpt2 = new CausalLM(await readHfConfig(gdir), await openHfWeights(gdir), backend);
    await expect(compressModel({ model: gpt2, tokenizer, recipe, out: join(root, 'gpt2'), calibration })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('transformer.h.0.attn.c_attn.q is not stored as'),
    });
    await gpt2.dispose();
  });

  it("errorStats 'needed' skips the statistics of data-free methods: same weights, no error report", async () => {
    const r = validateRecipe({ stages: [{ type: 'prune', method: 'magnitude', pattern: '2:4' }, { type: 'quantize', method: 'rtn', bits: 4 }], calibration: { ...SMALL_CALIB, source: TEXT() } });
    const a = await run(r, join(root, 'stats-always'), { writer: hfFolderWriter });
    const b = await run(r, join(root, 'stats-needed'), { writer: hfFolderWriter, errorStats: 'needed' });
    expect(a.linears.every((l) => typeof l.relError === 'number' && l.relError > 0)).toBe(true);
    expect(b.linears.every((l) => l.relError === null)).toBe(true);
    expect(b.totals.meanRelError).toBeNull();
    expect(readFileSync(join(root, 'stats-needed', 'model.safetensors')).equals(readFileSync(join(root, 'stats-always', 'model.safetensors')))).toBe(true);
  });

  it('self calibration: magnitude 2:4 output equals an independent float64 2:4 magnitude mask of the dense weights', async () => {
    const r = validateRecipe({ stages: [{ type: 'prune', method: 'magnitude', pattern: '2:4' }], calibration: { source: 'self', samples: 2, seqlen: 16, seed: 3 } });
    const out = join(root, 'mag24-self');
    const report = await run(r, out);
    expect(report.calibration).toMatchObject({ source: 'self', samples: 2, seqlen: 16 });
    expect(report.calibration.description).toContain('sampled from the dense model');
    const c = await openSparqContainer(out);
    const src = await openHfWeights(HF());
    for (const name of ['model.layers.0.self_attn.q_proj', 'model.layers.4.mlp.down_proj']) {
      const W = (await src.read(`${name}.weight`)).toF32();
      const [rows, cols] = W.shape as [number, number];
      const got = (await c.readF32(`${name}.weight`)).data;
      for (let row = 0; row < rows; row++) {
        for (let g = 0; g < cols; g += 4) {
          const idx = [0, 1, 2, 3].map((j) => row * cols + g + j);
          // Keep the 2 largest |w| (ties: lower index pruned first, i.e. kept = later indices among equals).
          const order = [...idx].sort((a, b) => Math.abs(W.data[a]!) - Math.abs(W.data[b]!) || a - b);
          for (const k of order.slice(0, 2)) expect(got[k]).toBe(0);
          for (const k of order.slice(2)) expect(got[k]).toBe(W.data[k]);
        }
      }
    }
    expect(c.entry('model.layers.0.self_attn.q_proj.weight').kind).toBe('nm');
    await c.close();
    await src.close();
  });
});
