/**
 * Machine probes in the same wasm module as the kernels, for benchmark ratios:
 * a streaming SIMD read (memory bandwidth) and a mul+add loop (SIMD FLOP peak).
 * They run on the same thread pool as the kernels, so "fraction of peak" compares
 * like with like.
 */
import { SparqError } from '@sparq/tensor';
import { createCpuWasmContext, disposeCpuWasmContext, initCpuWasmContext, requireRuntime } from './context';
import { JOB } from './runtime/control-block';

/** Raw probe primitives; timing and statistics are the bench harness's job. */
export interface CpuWasmProbes {
  /** Threads of the pool (main thread included). */
  readonly threads: number;
  /** Allocates (once) a buffer of `bytes` in wasm memory, filled with ones. */
  prepareRead(bytes: number): void;
  /** Reads the prepared buffer once with `threads` threads; returns the sum (to defeat dead-code elimination). */
  readOnce(threads: number): number;
  /** Runs `iters` rounds of the mul+add loop on each of `threads` threads; returns flops performed. */
  simdOnce(threads: number, iters: number): number;
  /** Stops the workers. */
  dispose(): Promise<void>;
}

/** Flops per round of the wasm `simdPeak` loop (8 chains × 4 lanes × mul+add, the GEMM tile's mix). */
export const SIMD_PEAK_FLOPS_PER_ITER = 64;

/**
 * Starts a probe runtime with `threads` threads (default: all cores).
 * @example
 * const p = await createCpuWasmProbes({ threads: 2 });
 * p.prepareRead(256 << 20);
 * p.readOnce(2);
 * await p.dispose();
 */
export async function createCpuWasmProbes(opts: { threads?: number } = {}): Promise<CpuWasmProbes> {
  const ctx = createCpuWasmContext({ threads: opts.threads, initialPages: 256 });
  await initCpuWasmContext(ctx);
  const { memories, pool } = requireRuntime(ctx);
  const heap = memories.primary.heap;
  let buf = -1;
  let bufBytes = 0;
  return {
    threads: pool.threads,
    prepareRead(bytes) {
      // Whole 4 KiB pages: the threads claim the buffer page-chunk by page-chunk (readSum in assembly/dense.ts),
      // with an i32 work counter, hence the 2 GiB limit.
      if (!(bytes > 0 && bytes < 2 ** 31 - 2 ** 24)) {
        throw new SparqError('E_ARG', `cpu-wasm probes: read buffer of ${bytes} bytes; expected 1 byte to just under 2 GiB`);
      }
      bytes = Math.ceil(bytes / 4096) * 4096;
      if (buf >= 0) heap.alloc.free(buf);
      buf = heap.alloc.alloc(bytes);
      bufBytes = bytes;
      heap.f32.fill(1, buf >>> 2, (buf + bytes) >>> 2);
    },
    readOnce(threads) {
      if (buf < 0) throw new SparqError('E_ARG', 'cpu-wasm probes: call prepareRead(bytes) first');
      pool.run(JOB.READ_SUM, [buf, bufBytes], threads);
      let s = 0;
      for (let t = 0; t < Math.min(threads, pool.threads); t++) s += pool.result(t);
      return s;
    },
    simdOnce(threads, iters) {
      const nth = Math.min(threads, pool.threads);
      pool.run(JOB.SIMD_PEAK, [iters], nth);
      return nth * iters * SIMD_PEAK_FLOPS_PER_ITER;
    },
    dispose: () => disposeCpuWasmContext(ctx),
  };
}
