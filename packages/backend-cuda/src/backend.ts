/** Wires the kernel table and the device context into a {@link Backend}. */
import { createTableBackend, type Backend, type KernelAttrs, type KernelInputs, type KernelName } from '@sparq/tensor';
import { createCudaContext, disposeCudaContext, initCudaContext, releaseWeight, unavailableReason, type CudaBackendOptions } from './context';
import { cudaKernels } from './kernels/index';

/**
 * The CUDA backend: a Node N-API addon with tensor-core kernels (dense f16,
 * INT4 group-dequant, 2:4 `mma.sp`, 2:4 + INT4) and exact f32 CUDA-core
 * kernels for the contract's f32 operations. On a machine without a usable
 * GPU (or without the built addon) `init()` rejects with
 * `E_NO_BACKEND: CUDA backend unavailable: <reason>` and `supports()` returns
 * that reason for every kernel; nothing throws at import.
 * @example
 * const cuda = createCudaBackend();
 * if (cuda.supports('matmulDense', { a, b }, { transposeB: true }) === true) {
 *   const y = await cuda.run('matmulDense', { a, b }, { transposeB: true });
 * }
 * await cuda.dispose();
 */
export function createCudaBackend(opts: CudaBackendOptions = {}): Backend {
  const ctx = createCudaContext(opts);
  const inner = createTableBackend('cuda', cudaKernels, ctx, {
    init: () => initCudaContext(ctx),
    release: (t, c) => releaseWeight(c, t),
    dispose: (c) => disposeCudaContext(c),
  });
  return {
    ...inner,
    supports<K extends KernelName>(kernel: K, inputs: KernelInputs<K>, attrs: KernelAttrs<K>): true | string {
      const reason = unavailableReason();
      if (reason !== undefined) return `CUDA backend unavailable: ${reason}`;
      return inner.supports(kernel, inputs, attrs);
    },
  };
}
