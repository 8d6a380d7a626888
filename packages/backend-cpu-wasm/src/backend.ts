/** Wires the kernel table and the wasm runtime into a {@link Backend}. */
import { createTableBackend, Tensor, type Backend } from '@sparq/tensor';
import { createCpuWasmContext, disposeCpuWasmContext, initCpuWasmContext, type CpuWasmBackendOptions } from './context';
import { cpuWasmKernels } from './kernels/index';

/**
 * A multi-threaded WebAssembly SIMD CPU backend. Nothing is compiled or started
 * until `init()` (or the first `run()`). Weights (`b`) are cached in wasm memory
 * by tensor identity: call `release(t)` when a weight is replaced, and
 * `dispose()` to stop the workers. Packed weights (`matmulQuant`, `matmulNM`,
 * `matmulNMQuant`, `matmulSpqr`) are cached the same way, by object identity.
 * @example
 * const backend = createCpuWasmBackend({ threads: 2 });
 * const y = await backend.run('matmulDense', { a: x, b: weight }, { transposeB: true });
 * await backend.dispose();
 */
export function createCpuWasmBackend(opts: CpuWasmBackendOptions = {}): Backend {
  const ctx = createCpuWasmContext(opts);
  return createTableBackend('cpu-wasm', cpuWasmKernels, ctx, {
    init: () => initCpuWasmContext(ctx),
    release: (t, c) => {
      if (t instanceof Tensor) c.runtime?.heap.release(t);
      else c.runtime?.packed.release(t);
    },
    dispose: (c) => disposeCpuWasmContext(c),
  });
}
