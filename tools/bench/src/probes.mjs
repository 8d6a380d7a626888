// Machine probes measured in the same run as the benchmarks, so "fraction of
// peak" uses this machine's numbers under this run's conditions. The wasm
// primitives live in a backend (e.g. `createCpuWasmProbes` of
// @sparq/backend-cpu-wasm) and are passed in: this package must not depend on
// a backend, which depends on it for its benchmarks (no cycle in the graph).
import { measure } from './measure.mjs';

/**
 * Raw probe primitives a backend provides (see `CpuWasmProbes`).
 * @typedef {object} ProbeKernels
 * @property {number} threads pool size
 * @property {(bytes: number) => void} prepareRead allocate and fill a read buffer
 * @property {(threads: number) => number} readOnce stream the buffer once
 * @property {(threads: number, iters: number) => number} simdOnce run the mul+add loop, returns flops
 */

/** Read buffer: 8× the 32 MiB L3 of the target machine, so reads come from DRAM. */
export const BANDWIDTH_PROBE_BYTES = 256 << 20;

/**
 * Streaming read bandwidth (GB/s, 1e9 bytes) with `threads` threads: a wasm
 * SIMD read-sum over a buffer ≫ L3.
 * @param {{ threads: number, probes: ProbeKernels, bytes?: number }} opts
 * @returns {Promise<{ gbps: number, gbpsP90: number, bytes: number, threads: number }>}
 */
export async function probeMemoryBandwidth(opts) {
  const bytes = opts.bytes ?? BANDWIDTH_PROBE_BYTES;
  opts.probes.prepareRead(bytes);
  const m = await measure(() => opts.probes.readOnce(opts.threads), { warmup: 2, reps: 8, minTimeMs: 300 });
  return { gbps: bytes / m.median / 1e6, gbpsP90: bytes / m.p90 / 1e6, bytes, threads: opts.threads };
}

/**
 * SIMD f32 mul+add peak (GFLOP/s) with `threads` threads: a wasm f32x4 loop of
 * 8 independent mul+add chains fed by L1-resident loads. Warm-up matters: V8
 * runs wasm in its baseline tier (Liftoff) until a hot function tiers up.
 * @param {{ threads: number, probes: ProbeKernels, iters?: number }} opts
 * @returns {Promise<{ gflops: number, threads: number }>}
 */
export async function probeSimdPeak(opts) {
  const iters = opts.iters ?? 20_000_000;
  let flops = 0;
  const m = await measure(
    () => {
      flops = opts.probes.simdOnce(opts.threads, iters);
    },
    { warmup: 2, reps: 5, minTimeMs: 300 },
  );
  return { gflops: flops / m.median / 1e6, threads: opts.threads };
}
