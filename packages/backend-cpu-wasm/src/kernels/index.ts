/** The ONE kernel table of the cpu-wasm backend. */
import type { KernelTable } from '@sparq/tensor';
import type { CpuWasmContext } from '../context';
import { matmulDense } from './matmul-dense';

/** Every kernel this backend implements; a missing entry is reported as unsupported. */
export const cpuWasmKernels: KernelTable<CpuWasmContext> = {
  matmulDense,
};
