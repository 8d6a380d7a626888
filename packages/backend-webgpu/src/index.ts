/// <reference types="@webgpu/types" />
/**
 * @sparq/backend-webgpu — WGSL kernels for dense f32/f16, group-quantized
 * (2/3/4/8-bit), N:M sparse, N:M + quantized and SpQR matrix products, plus
 * RMSNorm, RoPE, attention over a KV cache and SiLU·up, implementing the
 * sparq Backend contract in browsers (`navigator.gpu`) and Node (`webgpu` / Dawn).
 * @packageDocumentation
 */
export { createWebGpuBackend } from './backend';
export type { WebGpuBackend } from './backend';
export type { WebGpuBackendOptions, WebGpuContext } from './context';
export type { DeviceOptions } from './device';
export { webgpuKernels } from './kernels/index';
export type { WeightCacheStats } from './weight-cache';
export { planRowChunks } from './split';
export type { RowChunk, RowOffset } from './split';
