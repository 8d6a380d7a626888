/// <reference types="@webgpu/types" />
/** The WebGPU backend's private context, shared by its kernels. */
import { SparqError } from '@sparq/tensor';
import type { AcquiredDevice, DeviceOptions } from './device';
import type { GpuRuntime } from './runtime';
import type { WeightCache } from './weight-cache';

/** Options of `createWebGpuBackend`. */
export interface WebGpuBackendOptions extends DeviceOptions {
  /**
   * Device storage of dense `transposeB` weights (the `Linear` layout):
   * `'f32'` (default, exact) or `'f16'` — half the memory and bandwidth, each
   * weight rounded to the nearest f16 once at upload (read back with
   * `unpack2x16float`, which needs no `shader-f16` extension). With `'f16'`,
   * results equal `a · f16(b)ᵀ`, not `a · bᵀ`.
   */
  denseWeights?: 'f32' | 'f16';
  /**
   * Caps the storage binding size below the device's
   * `maxStorageBufferBindingSize` (bytes). Weights larger than the binding
   * size are split along output rows; tests lower this to exercise splits.
   */
  maxBindingBytes?: number;
}

/** Mutable state of one backend instance. */
export interface WebGpuContext {
  readonly options: WebGpuBackendOptions;
  readonly weights: WeightCache;
  /** Set by `init()`. */
  runtime: GpuRuntime | undefined;
  /** Set by `init()`. */
  acquired: AcquiredDevice | undefined;
}

/** The runtime, or `E_INTERNAL` when `init()` has not completed (the table backend always awaits it). */
export function runtimeOf(ctx: WebGpuContext): GpuRuntime {
  if (!ctx.runtime) throw new SparqError('E_INTERNAL', 'the webgpu backend was used before init() completed');
  ctx.runtime.check();
  return ctx.runtime;
}
