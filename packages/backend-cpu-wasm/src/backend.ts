/** Wires the kernel table and the wasm runtime into a {@link Backend}. */
import { createTableBackend, type Backend } from '@sparq/tensor';
import { createCpuWasmContext, disposeCpuWasmContext, initCpuWasmContext, type CpuWasmBackendOptions, type CpuWasmContext } from './context';
import { cpuWasmKernels } from './kernels/index';

const contexts = new WeakMap<Backend, CpuWasmContext>();

/**
 * A multi-threaded WebAssembly SIMD CPU backend. Nothing is compiled or started
 * until `init()` (or the first `run()`). Weights (`b`) are cached in wasm memory
 * by tensor identity: call `release(t)` when a weight is replaced, and
 * `dispose()` to stop the workers. Packed weights (`matmulQuant`, `matmulNM`,
 * `matmulNMQuant`, `matmulSpqr`) are cached the same way, by object identity.
 * Weights are spread over several wasm memories when they exceed one
 * (`maxMemoryBytes`), so a model's weights may total more than 4 GiB.
 * @example
 * const backend = createCpuWasmBackend({ threads: 2 });
 * const y = await backend.run('matmulDense', { a: x, b: weight }, { transposeB: true });
 * await backend.dispose();
 */
export function createCpuWasmBackend(opts: CpuWasmBackendOptions = {}): Backend {
  const ctx = createCpuWasmContext(opts);
  const backend = createTableBackend('cpu-wasm', cpuWasmKernels, ctx, {
    init: () => initCpuWasmContext(ctx),
    release: (t, c) => c.runtime?.memories.release(t),
    dispose: (c) => disposeCpuWasmContext(c),
  });
  contexts.set(backend, ctx);
  return backend;
}

/** Where a cpu-wasm backend's weights live (see {@link cpuWasmMemoryStats}). */
export interface CpuWasmMemoryStats {
  /** Wasm memories opened (0 before `init()`). */
  memories: number;
  /** Bytes of resident weights in each memory (device forms, heap blocks), including attention's resident key/value caches in the first. */
  weightBytes: number[];
  /** Current size of each memory in bytes. */
  memoryBytes: number[];
  /** Largest size of one memory (the `maxMemoryBytes` option, in whole pages). */
  maxMemoryBytes: number;
}

/**
 * Memory statistics of a backend made by {@link createCpuWasmBackend}, or
 * `undefined` for any other backend.
 * @example
 * const s = cpuWasmMemoryStats(backend);
 * console.log(`${s?.memories} memories, ${s?.weightBytes.reduce((x, y) => x + y, 0)} weight bytes`);
 */
export function cpuWasmMemoryStats(backend: Backend): CpuWasmMemoryStats | undefined {
  const ctx = contexts.get(backend);
  if (!ctx) return undefined;
  const ms = ctx.runtime?.memories;
  return {
    memories: ms?.count ?? 0,
    weightBytes: ms?.weightBytes() ?? [],
    memoryBytes: ms?.memoryBytes() ?? [],
    maxMemoryBytes: ctx.maxMemoryBytes,
  };
}
