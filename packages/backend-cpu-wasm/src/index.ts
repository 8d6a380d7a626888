/**
 * @sparq/backend-cpu-wasm — a multi-threaded WebAssembly SIMD CPU backend:
 * dense f32 and compressed (group-quantized, N:M, N:M + quantized, SpQR)
 * GEMV/GEMM on `worker_threads` sharing one wasm memory.
 * @packageDocumentation
 */
export { createCpuWasmBackend, cpuWasmMemoryStats } from './backend';
export type { CpuWasmMemoryStats } from './backend';
export type { CpuWasmBackendOptions, CpuWasmContext, CpuWasmRuntime } from './context';
export { cpuWasmKernels } from './kernels/index';
export { matmulDense } from './kernels/matmul-dense';
export { matmulQuant, matmulNM, matmulNMQuant, matmulSpqr, packedPath, PACKED_PATH } from './kernels/matmul-packed';
export type { PackedPath } from './kernels/matmul-packed';
export { createCpuWasmProbes, SIMD_PEAK_FLOPS_PER_ITER } from './probes';
export type { CpuWasmProbes } from './probes';
export { FreeListAllocator } from './runtime/allocator';
export { enableRelaxedSimd, relaxedSimdAvailable } from './runtime/wasm-module';
export type { SimdVariant } from './runtime/wasm-module';
export type { AllocatorOptions } from './runtime/allocator';
