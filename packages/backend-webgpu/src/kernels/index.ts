/** The WebGPU kernel table: every kernel of the contract. */
import type { KernelTable } from '@sparq/tensor';
import type { WebGpuContext } from '../context';
import { matmulDense, matmulNM, matmulNMQuant, matmulQuant, matmulSpqr } from './matmul';
import { attention, rmsNorm, rope, siluMul } from './model';

/** The kernels of the WebGPU backend, typed against the contract (no casts). */
export const webgpuKernels: KernelTable<WebGpuContext> = {
  matmulDense,
  matmulQuant,
  matmulNM,
  matmulNMQuant,
  matmulSpqr,
  rmsNorm,
  rope,
  attention,
  siluMul,
};
