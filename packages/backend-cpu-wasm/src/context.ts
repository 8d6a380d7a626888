/**
 * The private context of the cpu-wasm backend, shared by its kernels. It is
 * created empty with the backend and filled by `init()` (compile the module,
 * create the shared memory, start the workers).
 */
import { SparqError } from '@sparq/tensor';
import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_MEMORY_BYTES, MemorySet } from './runtime/memory-set';
import { KvMirrors } from './runtime/kv-mirrors';
import { ThreadPool } from './runtime/thread-pool';
import { WasmHeap } from './runtime/wasm-heap';
import { instantiateDense, loadDenseModule, type SimdVariant } from './runtime/wasm-module';

/** Options of `createCpuWasmBackend`. */
export interface CpuWasmBackendOptions {
  /** Threads including the main thread; `1` starts no workers. Default `os.availableParallelism()`. */
  threads?: number;
  /**
   * Problems with fewer multiply-adds than this run on the main thread only,
   * where waking a worker would cost more than it saves. Default 2¹⁹ (measured
   * crossover on a 2-vCPU VM: a futex wake costs ~50–100 µs when the worker sleeps).
   */
  minParallelWork?: number;
  /** Initial size of the first wasm memory in 64 KiB pages (it grows on demand). Default 256 (16 MiB). */
  initialPages?: number;
  /**
   * Largest size of one wasm memory in bytes (whole 64 KiB pages; 1 MiB to
   * 4 GiB). A wasm32 memory cannot exceed 4 GiB, so weights are spread over
   * several memories: each weight lives whole in one, and a new memory is
   * opened when none has room (1/4 of each, at most 256 MiB, stays free for
   * per-call scratch). A single weight larger than that fails with
   * `E_KERNEL_UNSUPPORTED`. Default 4 GiB − 64 MiB; small values are for tests.
   */
  maxMemoryBytes?: number;
  /**
   * Let the compressed GEMV kernels (2/3/4/8-bit, N:M + 2/3/4/8-bit with M
   * dividing 16 and SpQR bases of 2–4 bits; m = 1, and per row for batches up
   * to 32, or 16 for 8-bit) quantize the activations to int8 per block of ≤ 128 columns and
   * use integer dot products (llama.cpp Q4×Q8 style; error bounded as
   * documented on `KernelSpecs`). `false` decodes the weights exactly to f32
   * instead (slower, f32-accurate). Default true.
   */
  int8Activations?: boolean;
  /**
   * With `int8Activations`, let batches of any size of 2–4-bit weights (§2
   * with groups of 16 or 32k, SpQR bases) run the int8 GEMV once per row,
   * as llama.cpp quantizes activations for prompt processing: INT4 prefill
   * (batch 128) runs 1.6–1.8× faster than the exact-decode GEMM in the
   * relaxed build (1.3× baseline). Every batch then carries the
   * int8-activation error bound. Default false: batches above 32 rows stay
   * f32-exact, so a packed model's perplexity equals the decode-then-dense
   * one's.
   */
  int8Prefill?: boolean;
  /**
   * Module build: `'auto'` (default) uses the relaxed-SIMD build when the
   * engine supports it (faster INT4 GEMV dot products and 2:4 gathers, GEMV
   * results bit-identical to baseline; a fused multiply-add in the GEMM
   * tiles, results equal to f32 rounding), `'baseline'` forces plain SIMD, `'relaxed'`
   * requires relaxed SIMD (init fails with `E_KERNEL_UNSUPPORTED` otherwise).
   */
  simd?: SimdVariant | 'auto';
  /**
   * Bytes of the first wasm memory that `attention` may keep resident as
   * copies of append-only key/value caches (callers that pass the contract's
   * `cacheId` hint, as `@sparq/lm` does), so a decode step copies one new row
   * per layer instead of the whole cache. 0 disables it. Default: a quarter of
   * `maxMemoryBytes`, at most 1 GiB.
   */
  kvCacheBytes?: number;
}

/** What `init()` creates. */
export interface CpuWasmRuntime {
  /** The wasm memories and the weights placed in them. */
  memories: MemorySet;
  pool: ThreadPool;
  /** The module build in use. */
  simd: SimdVariant;
  /** Resident key/value caches of `attention` (in the first memory). */
  kv: KvMirrors;
}

/** The backend's context: options plus the runtime once initialised. */
export interface CpuWasmContext {
  readonly threads: number;
  readonly minParallelWork: number;
  readonly initialPages: number;
  readonly maxMemoryBytes: number;
  readonly int8Activations: boolean;
  readonly int8Prefill: boolean;
  readonly simd: SimdVariant | 'auto';
  readonly kvCacheBytes: number;
  runtime: CpuWasmRuntime | undefined;
}

/** A context with resolved options and no runtime yet. */
export function createCpuWasmContext(opts: CpuWasmBackendOptions = {}): CpuWasmContext {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new SparqError('E_ARG', `cpu-wasm: threads must be an integer in [1, 64], found ${threads}`);
  }
  const maxMemoryBytes = MemorySet.pagesFor(opts.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES) * 65536;
  const kvCacheBytes = opts.kvCacheBytes ?? Math.min(2 ** 30, maxMemoryBytes / 4);
  if (!(kvCacheBytes >= 0)) throw new SparqError('E_ARG', `cpu-wasm: kvCacheBytes must be ≥ 0, found ${kvCacheBytes}`);
  return {
    threads,
    minParallelWork: opts.minParallelWork ?? 1 << 19,
    initialPages: opts.initialPages ?? 256,
    maxMemoryBytes,
    int8Activations: opts.int8Activations ?? true,
    int8Prefill: opts.int8Prefill ?? false,
    simd: opts.simd ?? 'auto',
    kvCacheBytes,
    runtime: undefined,
  };
}

/** Compiles the module, creates the memory and starts the workers. */
export async function initCpuWasmContext(ctx: CpuWasmContext): Promise<void> {
  if (ctx.runtime) return;
  const { module, variant } = await loadDenseModule(ctx.simd);
  const heap = new WasmHeap(ctx.initialPages, ctx.maxMemoryBytes / 65536);
  const ex = instantiateDense(module, heap.memory);
  heap.ex = ex;
  const pool = new ThreadPool(module, heap.memory, ex, ctx.threads);
  await pool.start();
  ctx.runtime = { memories: new MemorySet(module, pool, { heap, ex }), pool, simd: variant, kv: new KvMirrors(heap, ctx.kvCacheBytes) };
}

/** The runtime, or `E_INTERNAL` when a kernel runs before `init()`. */
export function requireRuntime(ctx: CpuWasmContext): CpuWasmRuntime {
  if (!ctx.runtime) throw new SparqError('E_INTERNAL', 'cpu-wasm: kernel ran before init()');
  return ctx.runtime;
}

/** Stops workers and drops the memory. */
export async function disposeCpuWasmContext(ctx: CpuWasmContext): Promise<void> {
  const rt = ctx.runtime;
  ctx.runtime = undefined;
  if (!rt) return;
  rt.memories.dispose();
  await rt.pool.dispose();
}
