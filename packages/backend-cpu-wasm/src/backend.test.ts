// Backend-level behaviour beyond conformance: weight caching and release,
// thread-count independence, layout switches, errors and lifecycle.
import { createRng, isSparqError, matmulDenseRef, Tensor, type Backend } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuWasmBackend } from './index';

const rng = createRng(42);
const randn = (shape: [number, number]) =>
  new Tensor('f32', shape, rng.fillNormal(new Float32Array(shape[0] * shape[1])) as Float32Array);

function maxAbsDiff(x: Float32Array, y: Float32Array): number {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

describe('cpu-wasm backend', () => {
  const backends: Backend[] = [];
  const make = (threads: number) => {
    const b = createCpuWasmBackend({ threads, minParallelWork: 0 });
    backends.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.dispose()));
  });

  it('gives bit-identical results on 1 and 2 threads (GEMV and GEMM, odd sizes)', async () => {
    const one = make(1);
    const two = make(2);
    for (const [m, k, n] of [
      [1, 1027, 515],
      [1, 64, 6],
      // GEMV: 12-row groups (row stride not a multiple of 4 KiB) or 4 strided rows
      // (k = 1024: a 4 KiB stride) plus left-over rows, and every k tail (4-float step, scalars).
      [1, 1036, 203],
      [1, 13, 70],
      [1, 1024, 203],
      // GEMV rows claimed in chunks of 128 (2 threads) / 192 (1 thread): 4 strided rows per claim, and 12-row groups.
      [1, 1024, 1100],
      [1, 100, 1100],
      [5, 300, 257],
      // GEMM columns claimed in chunks of 128 / 192 as well, with a left-over row (m mod 4).
      [9, 64, 1100],
      [37, 520, 131],
      [64, 1100, 96],
    ] as const) {
      for (const transposeB of [true, false]) {
        const a = randn([m, k]);
        const b = randn(transposeB ? [n, k] : [k, n]);
        const y1 = await one.run('matmulDense', { a, b }, { transposeB });
        const y2 = await two.run('matmulDense', { a, b }, { transposeB });
        expect(maxAbsDiff(y1.data, y2.data), `m=${m} k=${k} n=${n} bT=${transposeB}`).toBe(0);
        const ref = matmulDenseRef({ a, b }, { transposeB });
        expect(maxAbsDiff(y1.data, ref.data)).toBeLessThan(1e-3);
      }
    }
  });

  it('caches weights by identity, and release() frees them so a re-upload sees new data', async () => {
    const be = make(2);
    const a = randn([3, 64]);
    const w = randn([40, 64]);
    const y1 = await be.run('matmulDense', { a, b: w }, { transposeB: true });
    // Mutating a cached weight is outside the contract: the cached copy keeps being used…
    const saved = w.data.slice();
    w.data.fill(0);
    const y2 = await be.run('matmulDense', { a, b: w }, { transposeB: true });
    expect(maxAbsDiff(y1.data, y2.data)).toBe(0);
    // …until release() drops it; the next call uploads the current contents.
    be.release(w);
    const y3 = await be.run('matmulDense', { a, b: w }, { transposeB: true });
    expect(Array.from(y3.data).every((v) => v === 0)).toBe(true);
    be.release(w);
    w.data.set(saved);
    const y4 = await be.run('matmulDense', { a, b: w }, { transposeB: true });
    expect(maxAbsDiff(y1.data, y4.data)).toBe(0);
    be.release(a); // releasing a tensor that was never cached is a no-op
  });

  it('re-uploads a weight used with the other layout', async () => {
    const be = make(1);
    const a = randn([2, 16]);
    const sq = randn([16, 16]);
    for (const transposeB of [true, false, true]) {
      const y = await be.run('matmulDense', { a, b: sq }, { transposeB });
      expect(maxAbsDiff(y.data, matmulDenseRef({ a, b: sq }, { transposeB }).data)).toBeLessThan(1e-4);
    }
  });

  it('keeps memory bounded across many upload/release cycles (free-list reuse)', async () => {
    const be = make(2);
    const a = randn([1, 256]);
    for (let i = 0; i < 50; i++) {
      const w = randn([512, 256]); // 512 KiB each, 25 MiB in total if never freed
      await be.run('matmulDense', { a, b: w }, { transposeB: true });
      be.release(w);
    }
    const w = randn([512, 256]);
    const y = await be.run('matmulDense', { a, b: w }, { transposeB: true });
    expect(maxAbsDiff(y.data, matmulDenseRef({ a, b: w }, { transposeB: true }).data)).toBeLessThan(1e-3);
  });

  it('grows the wasm memory for weights larger than the initial memory', async () => {
    const be = createCpuWasmBackend({ threads: 2, initialPages: 4 });
    backends.push(be);
    const a = randn([2, 1024]);
    const w = randn([1024, 1024]); // 4 MiB > 256 KiB initial
    const y = await be.run('matmulDense', { a, b: w }, { transposeB: true });
    expect(maxAbsDiff(y.data, matmulDenseRef({ a, b: w }, { transposeB: true }).data)).toBeLessThan(1e-3);
  });

  it('reports unsupported inputs and shape errors with codes', async () => {
    const be = make(1);
    const bad = new Tensor('f64', [2, 2], new Float64Array(4));
    const ok = randn([2, 2]);
    // @ts-expect-error: a non-f32 operand is a type error too, but must also fail at runtime
    expect(be.supports('matmulDense', { a: bad, b: ok }, { transposeB: true })).toMatch(/f32/);
    expect(be.supports('matmulDense', { a: ok, b: randn([3, 3]) }, { transposeB: true })).toMatch(/rows|shape/);
    let err: unknown;
    try {
      await be.run('matmulDense', { a: ok, b: randn([3, 3]) }, { transposeB: true });
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_KERNEL_UNSUPPORTED');
  });

  it('rejects invalid thread counts and runs nothing after dispose()', async () => {
    expect(() => createCpuWasmBackend({ threads: 0 })).toThrow(/threads/);
    const be = createCpuWasmBackend({ threads: 2 });
    await be.init();
    await be.dispose();
    await expect(be.run('matmulDense', { a: randn([1, 2]), b: randn([2, 2]) }, { transposeB: true })).rejects.toThrow(/disposed/);
  });
});
