/**
 * @sparq/backend-cpu-wasm — a multi-threaded WebAssembly SIMD CPU backend:
 * dense f32 GEMV/GEMM on `worker_threads` sharing one wasm memory.
 * @packageDocumentation
 */
export { createCpuWasmBackend } from './backend';
export type { CpuWasmBackendOptions, CpuWasmContext, CpuWasmRuntime } from './context';
export { cpuWasmKernels } from './kernels/index';
export { matmulDense } from './kernels/matmul-dense';
export { createCpuWasmProbes, SIMD_PEAK_FLOPS_PER_ITER } from './probes';
export type { CpuWasmProbes } from './probes';
export { FreeListAllocator } from './runtime/allocator';
export type { AllocatorOptions } from './runtime/allocator';
