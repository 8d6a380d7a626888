/** The CUDA backend's kernel table (typed: one implementation per kernel name). */
import type { KernelTable } from '@sparq/tensor';
import type { CudaContext } from '../context';
import { matmulDense } from './matmul-dense';
import { matmulNM, matmulNMQuant, matmulQuant, matmulSpqr } from './matmul-packed';
import { attention, rmsNorm, rope, siluMul } from './model';

/** Every kernel the CUDA backend implements, the optional model kernels included. */
export const cudaKernels: KernelTable<CudaContext> = { matmulDense, matmulQuant, matmulNM, matmulNMQuant, matmulSpqr, rmsNorm, rope, attention, siluMul };
