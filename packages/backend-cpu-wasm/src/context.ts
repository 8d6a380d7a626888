/**
 * The private context of the cpu-wasm backend, shared by its kernels. It is
 * created empty with the backend and filled by `init()` (compile the module,
 * create the shared memory, start the workers).
 */
import { SparqError } from '@sparq/tensor';
import { availableParallelism } from 'node:os';
import { ThreadPool } from './runtime/thread-pool';
import { WasmHeap } from './runtime/wasm-heap';
import { instantiateDense, loadDenseModule, type DenseExports } from './runtime/wasm-module';

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
  /** Initial wasm memory in 64 KiB pages (it grows on demand up to 4 GiB). Default 256 (16 MiB). */
  initialPages?: number;
}

/** What `init()` creates. */
export interface CpuWasmRuntime {
  heap: WasmHeap;
  ex: DenseExports;
  pool: ThreadPool;
}

/** The backend's context: options plus the runtime once initialised. */
export interface CpuWasmContext {
  readonly threads: number;
  readonly minParallelWork: number;
  readonly initialPages: number;
  runtime: CpuWasmRuntime | undefined;
}

/** A context with resolved options and no runtime yet. */
export function createCpuWasmContext(opts: CpuWasmBackendOptions = {}): CpuWasmContext {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new SparqError('E_ARG', `cpu-wasm: threads must be an integer in [1, 64], found ${threads}`);
  }
  return {
    threads,
    minParallelWork: opts.minParallelWork ?? 1 << 19,
    initialPages: opts.initialPages ?? 256,
    runtime: undefined,
  };
}

/** Compiles the module, creates the memory and starts the workers. */
export async function initCpuWasmContext(ctx: CpuWasmContext): Promise<void> {
  if (ctx.runtime) return;
  const module = await loadDenseModule();
  const heap = new WasmHeap(ctx.initialPages);
  const ex = instantiateDense(module, heap.memory);
  heap.ex = ex;
  const pool = new ThreadPool(module, heap.memory, ex, ctx.threads);
  await pool.start();
  ctx.runtime = { heap, ex, pool };
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
  rt.heap.dispose();
  await rt.pool.dispose();
}
