// Weights spread over several wasm memories (the 4 GiB wasm32 limit): a small
// per-memory cap forces many memories; results must equal the one-memory
// backend's bit for bit, release() must free space for reuse, and a weight
// that cannot fit one memory must fail clearly.
import { randomNM, randomNMQuant, randomQuantized, randomSpqr } from '@sparq/conformance';
import { createRng, isSparqError, matmulDenseRef, matmulPackedRef, Tensor, type Backend, type PackedMatrix } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasmMemoryStats, createCpuWasmBackend, packedPath } from './index';
import { scratchReserve } from './runtime/memory-set';
import { packedUploadBytes } from './runtime/packed-weights';

const rng = createRng(7);
const randn = (m: number, k: number) => new Tensor('f32', [m, k], rng.fillNormal(new Float32Array(m * k)) as Float32Array);
const MiB = 2 ** 20;
const KERNEL = { quant: 'matmulQuant', nm: 'matmulNM', 'nm-quant': 'matmulNMQuant', spqr: 'matmulSpqr' } as const;

type Weight = Tensor<'f32'> | PackedMatrix;
const run = (be: Backend, a: Tensor<'f32'>, w: Weight) =>
  w instanceof Tensor ? be.run('matmulDense', { a, b: w }, { transposeB: true }) : be.run(KERNEL[w.kind], { a, w } as never, {});
const reference = (a: Tensor<'f32'>, w: Weight) => (w instanceof Tensor ? matmulDenseRef({ a, b: w }, { transposeB: true }) : matmulPackedRef(a, w));

function nmse(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    e += (out[i]! - ref[i]!) ** 2;
    s += ref[i]! ** 2;
  }
  return e / s;
}

/** A mix of every format, ~2.5 MiB of device forms in all (each block well under the 1.5 MiB weight budget of a 2 MiB memory). */
function weights(): Weight[] {
  return [
    randn(96, 1024), // 384 KiB dense
    randomQuantized(rng, 256, 1024, 4, 128, false), // INT4 fast path
    randomQuantized(rng, 200, 1024, 4, 128, true),
    randomNM(rng, 128, 1024, 2, 4), // 2:4 f32 fast path
    randomNMQuant(rng, 256, 1024, 2, 4, 4, 128, false), // 2:4 + INT4 fast path
    randomQuantized(rng, 96, 1024, 3, 128, false), // generic path
    randomSpqr(rng, 64, 1024, 3, 16, 16),
    randn(128, 1024),
    randomQuantized(rng, 300, 1024, 8, 64, false),
    randomNMQuant(rng, 130, 1024, 2, 4, 4, 128, true),
  ];
}

describe('cpu-wasm weights across several wasm memories', () => {
  const backends: Backend[] = [];
  const make = (maxMemoryBytes?: number) => {
    const b = createCpuWasmBackend({ threads: 2, minParallelWork: 0, maxMemoryBytes });
    backends.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.dispose()));
  });

  it('records exactly the planned bytes for every packed format (placement relies on it)', async () => {
    for (const w of [
      randomQuantized(rng, 37, 256, 4, 128, false),
      randomQuantized(rng, 21, 96, 3, 32, true), // 3-bit codes held as nibbles
      randomQuantized(rng, 21, 96, 2, 16, false), // groups of 16 in the Q4 layout
      randomQuantized(rng, 13, 100, 3, 20, false), // 3-bit as stored (group not a multiple of 32)
      randomNMQuant(rng, 19, 256, 2, 4, 3, 128, false), // NMQ4 stream of 3-bit codes
      randomNM(rng, 19, 256, 2, 4),
      randomNM(rng, 7, 40, 3, 5),
      randomNMQuant(rng, 23, 256, 2, 4, 4, 128, false),
      randomNMQuant(rng, 10, 48, 4, 8, 3, 24, true),
      randomNM(rng, 13, 256, 4, 8), // column bytes (any-N:M kernels)
      randomNM(rng, 11, 260, 2, 4), // 2:4 without the quad layout (k % 8 = 4): column bytes
      randomNMQuant(rng, 11, 256, 4, 8, 4, 128, false), // column bytes + the chunked N:M + 4-bit GEMV stream
      randomNMQuant(rng, 9, 512, 2, 8, 4, 256, true),
      randomNMQuant(rng, 11, 256, 2, 4, 4, 64, false), // NMQ4 / NMQ4C streams with groups of 64 / 32
      randomNMQuant(rng, 9, 256, 4, 8, 4, 32, true),
      randomSpqr(rng, 21, 48, 3, 16, 5),
      randomSpqr(rng, 21, 96, 3, 16, 5), // the Q4 GEMV layout: rows padded to quads, outlier deltas
    ]) {
      const be = make();
      await run(be, randn(1, w.cols), w);
      expect(cpuWasmMemoryStats(be)!.weightBytes, w.kind).toEqual([packedUploadBytes(w)]);
    }
  });

  it('opens more memories under a small cap and gives results identical to one memory', async () => {
    const cap = 2 * MiB;
    const small = make(cap);
    const big = make();
    const ws = weights();
    for (const m of [1, 9]) {
      for (const w of ws) {
        const a = randn(m, 1024);
        const y = await run(small, a, w);
        expect(Array.from(y.data), `${w instanceof Tensor ? 'dense' : w.kind} m=${m}`).toEqual(Array.from((await run(big, a, w)).data));
        // Independent check against the float64 reference (int8-activation GEMVs, also run per row for small
        // batches, within their bound).
        const int8 = !(w instanceof Tensor) && ['q4', 'q8', 'nmq4', 'nmq4c'].includes(packedPath(w, m, true).path);
        expect(nmse(y.data, reference(a, w).data)).toBeLessThan(int8 ? 1e-3 : 1e-10);
      }
    }
    const s = cpuWasmMemoryStats(small)!;
    expect(s.maxMemoryBytes).toBe(cap);
    expect(s.memories).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < s.memories; i++) {
      expect(s.weightBytes[i]).toBeLessThanOrEqual(cap - scratchReserve(cap));
      expect(s.memoryBytes[i]).toBeLessThanOrEqual(cap);
    }
    expect(cpuWasmMemoryStats(big)!.memories).toBe(1);
  });

  it('frees space on release(), so later weights reuse the same memories', async () => {
    const be = make(2 * MiB);
    const a = randn(1, 1024);
    const first = weights();
    for (const w of first) await run(be, a, w);
    const opened = cpuWasmMemoryStats(be)!.memories;
    expect(opened).toBeGreaterThanOrEqual(2);
    for (const w of first) be.release(w);
    expect(cpuWasmMemoryStats(be)!.weightBytes.every((b) => b === 0)).toBe(true);
    for (let round = 0; round < 3; round++) {
      const ws = weights();
      for (const w of ws) expect(nmse((await run(be, a, w)).data, reference(a, w).data)).toBeLessThan(1e-3);
      for (const w of ws) be.release(w);
    }
    expect(cpuWasmMemoryStats(be)!.memories).toBe(opened);
  });

  it('fails with a clear E_KERNEL_UNSUPPORTED when one weight cannot fit a memory', async () => {
    const be = make(2 * MiB);
    const a = randn(1, 1024);
    let err: unknown;
    try {
      await run(be, a, randn(512, 1024)); // 2 MiB of f32: more than the 1.5 MiB a 2 MiB memory holds for weights
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_KERNEL_UNSUPPORTED');
    expect((err as Error).message).toMatch(/needs 2097152 bytes of wasm memory, but one memory holds at most 1572864 bytes/);
    // The backend stays usable.
    const w = randomQuantized(rng, 64, 1024, 4, 128, false);
    expect(nmse((await run(be, a, w)).data, reference(a, w).data)).toBeLessThan(1e-3);
  });

  it('rejects an invalid maxMemoryBytes', () => {
    expect(() => createCpuWasmBackend({ maxMemoryBytes: 1000 })).toThrow(/maxMemoryBytes must be between 1 MiB and 4 GiB/);
    expect(() => createCpuWasmBackend({ maxMemoryBytes: 2 ** 33 })).toThrow(/maxMemoryBytes/);
  });
});
