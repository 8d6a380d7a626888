// Routing of the optional model kernels: a backend that lacks them (or declines some inputs) must get exactly the JS
// numbers lm computed before the kernels existed; a backend that has them must actually run them, with results that
// agree with the JS path and with the float64 references of ../shared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, createTableBackend, createReferenceBackend, referenceKernels, type Backend, type KernelName, type KernelTable } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { attend } from './attention';
import { activate } from './block';
import { openHfWeights, readHfConfig } from './hf-source';
import { CausalLM } from './model';
import { attendRows, gatedActivation, normRows, ropeRows } from './model-kernels';
import { applyNorm } from './norm';
import { applyRope, ropeInvFreq } from './rope';

const MODEL_KERNEL_NAMES = ['rmsNorm', 'rope', 'attention', 'siluMul'] as const;

/** The reference backend without its model kernels (matmuls only), like a backend that never had them. */
function matmulOnly(): Backend {
  const { rmsNorm: _n, rope: _r, attention: _a, siluMul: _s, ...matmuls } = referenceKernels;
  return createTableBackend('matmul-only', matmuls as KernelTable<null>, null);
}

/** Wraps a backend, counting the kernels it runs. */
function counting(inner: Backend): { backend: Backend; runs: Map<string, number>; released: unknown[] } {
  const runs = new Map<string, number>();
  const released: unknown[] = [];
  const backend: Backend = {
    ...inner,
    run: (k, i, a) => {
      runs.set(k, (runs.get(k) ?? 0) + 1);
      return inner.run(k, i, a);
    },
    release: (t) => {
      released.push(t);
      inner.release(t);
    },
  };
  return { backend, runs, released };
}

const rng = createRng(5);
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

describe('model kernel helpers', () => {
  const plain = matmulOnly();
  const ref = createReferenceBackend();

  it('without the kernels give exactly the JS functions’ results', async () => {
    const x = rand(3 * 16);
    const norm = { kind: 'rms' as const, weight: rand(16), bias: undefined, eps: 1e-5 };
    expect(Array.from(await normRows(plain, x, 3, norm))).toEqual(Array.from(applyNorm(x, 3, norm)));

    const inv = ropeInvFreq(8, 10000);
    const q = rand(3 * 32);
    const want = Float32Array.from(q);
    applyRope(want, 3, 4, 8, [5, 6, 7], inv);
    expect(Array.from(await ropeRows(plain, Float32Array.from(q), 3, 4, 8, [5, 6, 7], inv))).toEqual(Array.from(want));

    const shape = { numHeads: 4, numKvHeads: 2, headDim: 8, slidingWindow: undefined };
    const k = rand(8 * 16);
    const v = rand(8 * 16);
    const a = new Float32Array(3 * 32);
    const b = new Float32Array(3 * 32);
    attend(q, k, v, 3, 8, 5, shape, a);
    await attendRows(plain, q, k, v, 3, 8, 5, shape, b);
    expect(Array.from(b)).toEqual(Array.from(a));

    const g = rand(3 * 12);
    const u = rand(3 * 12);
    const gm = Float32Array.from(g);
    activate(gm, 'silu');
    for (let i = 0; i < gm.length; i++) gm[i] = gm[i]! * u[i]!;
    expect(Array.from(await gatedActivation(plain, Float32Array.from(g), u, 3, 'silu', activate))).toEqual(Array.from(gm));
  });

  it('with the kernels agree with the JS functions (reference backend, f32 rounding only)', async () => {
    const x = rand(3 * 16);
    const norm = { kind: 'rms' as const, weight: rand(16), bias: undefined, eps: 1e-5 };
    const close = (got: Float32Array, want: Float32Array) => got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]!))));
    close(await normRows(ref, x, 3, norm), applyNorm(x, 3, norm));
    const inv = ropeInvFreq(8, 10000);
    const q = rand(3 * 32);
    const want = Float32Array.from(q);
    applyRope(want, 3, 4, 8, [5, 6, 7], inv);
    close(await ropeRows(ref, Float32Array.from(q), 3, 4, 8, [5, 6, 7], inv), want);
  });
});

describe('CausalLM routes to the model kernels', () => {
  const load = async (name: string, b: Backend) => {
    const dir = sharedPath('reference', 'tiny', name);
    const model = new CausalLM(await readHfConfig(dir), await openHfWeights(dir), b);
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { input_ids: number[]; logits: number[][] };
    return { model, ref };
  };
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

  it('runs rmsNorm, rope, attention and siluMul once per use when the backend has them, never when it lacks them', async () => {
    const withK = counting(createReferenceBackend());
    const without = counting(matmulOnly());
    const a = await load('llama-gqa', withK.backend);
    const b = await load('llama-gqa', without.backend);
    const L = a.model.numBlocks;
    const la = await a.model.forward(a.ref.input_ids);
    const lb = await b.model.forward(b.ref.input_ids);
    expect(Object.fromEntries(MODEL_KERNEL_NAMES.map((k) => [k, withK.runs.get(k) ?? 0]))).toEqual({ rmsNorm: 2 * L + 1, rope: 2 * L, attention: L, siluMul: L });
    expect(MODEL_KERNEL_NAMES.map((k) => without.runs.get(k) ?? 0)).toEqual([0, 0, 0, 0]);
    expect(without.runs.get('matmulDense')).toBe(withK.runs.get('matmulDense'));
    // Both paths against the float64 reference logits of ../shared, and against each other.
    const V = a.ref.logits[0]!.length;
    const refLogits = Float32Array.from(a.ref.logits.flat());
    expect(maxDiff(la.data, refLogits)).toBeLessThan(1e-4);
    expect(maxDiff(lb.data, refLogits)).toBeLessThan(1e-4);
    expect(maxDiff(la.data, lb.data)).toBeLessThan(1e-5);
    expect(la.shape).toEqual([a.ref.input_ids.length, V]);
    // Unloading a block releases its 7 linears and the device copies of its 2 norm weights.
    a.model.unloadBlock(0);
    expect(withK.released).toHaveLength(9);
    expect(withK.released.filter((t) => (t as { shape?: number[] }).shape?.length === 1)).toHaveLength(2);
    await a.model.dispose();
    await b.model.dispose();
  });

  it('falls back to JS for inputs the backend declines (here: sliding-window attention on Mistral)', async () => {
    const table: KernelTable<null> = {
      ...referenceKernels,
      attention: { ...referenceKernels.attention!, supports: (_i, attrs) => (attrs.slidingWindow === undefined ? true : 'no sliding window') },
    };
    const c = counting(createTableBackend('no-window', table, null));
    const { model, ref } = await load('mistral', c.backend);
    expect(model.config.slidingWindow).toBeDefined();
    const logits = await model.forward(ref.input_ids);
    expect(c.runs.get('attention') ?? 0).toBe(0);
    expect(c.runs.get('rmsNorm')).toBe(2 * model.numBlocks + 1);
    expect(maxDiff(logits.data, Float32Array.from(ref.logits.flat()))).toBeLessThan(1e-4);
    await model.dispose();
  });

  it('keeps greedy stories260K tokens identical with and without the kernels (KV-cache decode)', async () => {
    const dir = sharedPath('models', 'stories260K', 'hf');
    const run = async (b: Backend) => {
      const model = new CausalLM(await readHfConfig(dir), await openHfWeights(dir), b);
      const cache = model.createCache();
      const ids = [1, 410, 469, 347];
      let next = ids;
      for (let s = 0; s < 20; s++) {
        const l = (await model.forward(next, cache, { lastOnly: true })).data;
        let best = 0;
        for (let j = 1; j < l.length; j++) if (l[j]! > l[best]!) best = j;
        ids.push(best);
        next = [best];
      }
      await model.dispose();
      return ids;
    };
    const reference = JSON.parse(readFileSync(sharedPath('models', 'stories260K', 'reference-greedy-Zoo.json'), 'utf8')) as { greedy_ids: number[] };
    const a = await run(createReferenceBackend());
    const b = await run(matmulOnly());
    expect(a).toEqual(b);
    expect(a).toEqual(reference.greedy_ids.slice(0, a.length));
  });
});

// Keep the list above in step with the contract's optional kernels.
it('covers every optional model kernel of the contract', async () => {
  const { MODEL_KERNELS } = await import('@sparq/tensor');
  expect([...MODEL_KERNELS].sort()).toEqual([...MODEL_KERNEL_NAMES].sort() as KernelName[]);
});
