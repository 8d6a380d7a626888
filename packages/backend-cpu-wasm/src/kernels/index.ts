/** The ONE kernel table of the cpu-wasm backend. */
import type { KernelTable } from '@sparq/tensor';
import type { CpuWasmContext } from '../context';
import { attention } from './attention';
import { matmulDense } from './matmul-dense';
import { matmulNM, matmulNMQuant, matmulQuant, matmulSpqr } from './matmul-packed';

/** Every kernel this backend implements; a missing entry is reported as unsupported. */
export const cpuWasmKernels: KernelTable<CpuWasmContext> = {
  matmulDense,
  matmulQuant,
  matmulNM,
  matmulNMQuant,
  matmulSpqr,
  attention,
};
