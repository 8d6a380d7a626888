/**
 * `loadModel({ halfWeights: true })`: a half-precision checkpoint's linears stay
 * f16 / bf16 in memory and run through `matmulDense` as stored. The fixtures
 * are generated here: stories260K's HF weights rounded to f16 and to bf16 and
 * written as safetensors (the shared folder holds only the f32 original).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { openSafetensors, writeSafetensors } from '@sparq/format';
import { f32ArrayToBf16, f32ArrayToF16, Tensor, type Backend, type DenseWeightDType } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from './load';
import { evaluatePerplexity } from './perplexity';

const hf = sharedPath('models', 'stories260K', 'hf');
const tok = sharedPath('models', 'stories260K', 'tok512.bin');
const text = readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8').slice(0, 4000);

/** The cpu-wasm backend, recording the storage type of every `matmulDense` weight it is given. */
function recordingBackend(): { backend: Backend; seen: Set<DenseWeightDType> } {
  const inner = createCpuWasmBackend({ threads: 2 });
  const seen = new Set<DenseWeightDType>();
  const backend: Backend = {
    name: inner.name,
    init: () => inner.init(),
    supports: (kernel, inputs, attrs) => inner.supports(kernel, inputs, attrs),
    run: (kernel, inputs, attrs) => {
      if (kernel === 'matmulDense') seen.add((inputs as { b: Tensor<DenseWeightDType> }).b.dtype);
      return inner.run(kernel, inputs, attrs);
    },
    release: (t) => inner.release(t),
    dispose: () => inner.dispose(),
  };
  return { backend, seen };
}

describe('half-precision checkpoints kept half precision (halfWeights)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sparq-half-'));
    const src = await openSafetensors(join(hf, 'model.safetensors'));
    try {
      for (const dtype of ['f16', 'bf16'] as const) {
        const out: Record<string, Tensor> = {};
        for (const name of src.names()) {
          const t = (await src.read(name)).toF32();
          out[name] = new Tensor(dtype, t.shape, dtype === 'f16' ? f32ArrayToF16(t.data) : f32ArrayToBf16(t.data));
        }
        const folder = join(dir, dtype);
        await writeSafetensors(join(folder, 'model.safetensors'), out);
        copyFileSync(join(hf, 'config.json'), join(folder, 'config.json'));
      }
    } finally {
      await src.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('setLinearWeight and unloadBlock release the half copies; the new f32 weight runs', async () => {
    const { backend, seen } = recordingBackend();
    const released: unknown[] = [];
    const rel = backend.release;
    backend.release = (t) => {
      released.push(t);
      rel(t);
    };
    const { model, tokenizer } = await loadModel(join(dir, 'f16'), { backend, tokenizer: tok, halfWeights: true });
    try {
      const name = 'model.layers.2.self_attn.o_proj';
      const w = await model.getLinearWeight(name);
      const block = await model.loadBlock(2);
      const half = block.o.half;
      expect(half?.dtype).toBe('f16');
      // A shape check against the half form, then the swap.
      await expect(model.setLinearWeight(name, new Tensor('f32', [3, 3], new Float32Array(9)))).rejects.toThrow(/expected \[64, 64\]/);
      const doubled = new Tensor('f32', w.shape, w.data.map((v) => 2 * v));
      await model.setLinearWeight(name, doubled);
      expect(block.o.half).toBeUndefined();
      expect(released).toContain(half);
      // Unloading a block releases the half copies themselves (not a widened f32 made just for that).
      const b3 = await model.loadBlock(3);
      const halves = [b3.q, b3.k, b3.v, b3.o, b3.gate, b3.up, b3.down].map((l) => l?.half);
      model.unloadBlock(3);
      for (const h of halves) expect(released).toContain(h);
      seen.clear();
      const ids = tokenizer.encode('Once upon a time');
      const y = (await model.forward(ids, undefined, { lastOnly: true })).data;
      expect(seen.has('f32')).toBe(true);
      expect(y.every(Number.isFinite)).toBe(true);
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  });

  for (const dtype of ['f16', 'bf16'] as const) {
    it(`${dtype}: the linears run as stored, with the perplexity of the widened model bit for bit`, async () => {
      const half = recordingBackend();
      const wide = recordingBackend();
      const a = await loadModel(join(dir, dtype), { backend: half.backend, tokenizer: tok, halfWeights: true });
      const b = await loadModel(join(dir, dtype), { backend: wide.backend, tokenizer: tok });
      try {
        const opts = { seqlen: 128, docSeparator: '<|endoftext|>' };
        const ra = await evaluatePerplexity(a.model, a.tokenizer, text, opts);
        const rb = await evaluatePerplexity(b.model, b.tokenizer, text, opts);
        expect(half.seen.has(dtype)).toBe(true);
        expect(wide.seen.has(dtype)).toBe(false);
        // Every matmul ran on half weights: the block linears and the (tied) embedding as LM head.
        expect(half.seen.has('f32')).toBe(false);
        expect(ra.tokens).toBe(rb.tokens);
        expect(ra.nll).toBe(rb.nll);
        // The weights are read back widened when asked for (calibration, export).
        const w = await a.model.getLinearWeight('model.layers.0.mlp.down_proj');
        expect(w.dtype).toBe('f32');
        expect(Array.from(w.data)).toEqual(Array.from((await b.model.getLinearWeight('model.layers.0.mlp.down_proj')).data));
      } finally {
        await a.model.dispose();
        await b.model.dispose();
        await half.backend.dispose();
        await wide.backend.dispose();
      }
    });
  }
});
