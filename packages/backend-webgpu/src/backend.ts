/// <reference types="@webgpu/types" />
/** `createWebGpuBackend`: the WebGPU implementation of the Backend contract. */
import { createTableBackend, SparqError, type Backend, type KernelAttrs, type KernelInputs, type KernelName } from '@sparq/tensor';
import { acquireDevice } from './device';
import { type WebGpuBackendOptions, type WebGpuContext } from './context';
import { webgpuKernels } from './kernels/index';
import { GpuRuntime } from './runtime';
import { WeightCache, type WeightCacheStats } from './weight-cache';

/** The WebGPU backend: the Backend contract plus what it runs on. */
export interface WebGpuBackend extends Backend {
  /** Adapter vendor/architecture (after `init()`; `''` before). */
  readonly adapter: string;
  /** Whether the device has `shader-f16` (after `init()`). The kernels do not need it. */
  readonly shaderF16: boolean;
  /** The storage binding size weights are split to fit (after `init()`; 0 before). */
  readonly maxBindingBytes: number;
  /** Weights on the device and uploads so far. */
  weightStats(): WeightCacheStats;
  /**
   * For benchmarks: runs `kernel` `repeat` times back to back in one GPU
   * submission (weights uploaded beforehand by a warm-up run) and returns the
   * seconds per run, from submit to readback — per-call latency amortised
   * over `repeat`. The output is discarded.
   */
  profile<K extends KernelName>(kernel: K, inputs: KernelInputs<K>, attrs: KernelAttrs<K>, repeat: number): Promise<number>;
}

/**
 * Creates the WebGPU backend. In a browser it uses `navigator.gpu` unless
 * given `gpu` or `device`; in Node pass `{ gpu: create([]) }` from the
 * `webgpu` package. `init()` (or the first `run()`) acquires the device and
 * throws `E_NO_BACKEND` ("WebGPU unavailable: no adapter (…)") when there is none.
 * A lost device or an out-of-memory upload becomes an `E_NO_BACKEND` SparqError.
 * @example
 * const backend = createWebGpuBackend();
 * await backend.init();
 * const y = await backend.run('matmulNMQuant', { a, w }, {});
 */
export function createWebGpuBackend(options: WebGpuBackendOptions = {}): WebGpuBackend {
  const ctx: WebGpuContext = { options, weights: new WeightCache(), runtime: undefined, acquired: undefined };
  const base = createTableBackend('webgpu', webgpuKernels, ctx, {
    async init() {
      ctx.acquired = await acquireDevice(options);
      ctx.runtime = new GpuRuntime(ctx.acquired.device, options.maxBindingBytes);
    },
    release(t, c) {
      c.weights.release(t);
    },
    async dispose(c) {
      c.weights.clear();
      // Destroy only a device we created; a caller's device stays theirs.
      if (c.acquired && !options.device) c.acquired.device.destroy();
    },
  });
  return {
    ...base,
    get adapter() {
      return ctx.acquired?.adapter ?? '';
    },
    get shaderF16() {
      return ctx.acquired?.shaderF16 ?? false;
    },
    get maxBindingBytes() {
      return ctx.runtime?.maxBinding ?? 0;
    },
    weightStats: () => ctx.weights.stats(),
    async profile(kernel, inputs, attrs, repeat) {
      if (!Number.isInteger(repeat) || repeat < 1) throw new SparqError('E_ARG', `profile: repeat must be a positive integer, found ${repeat}`);
      await base.run(kernel, inputs, attrs);
      const rt = ctx.runtime!;
      rt.repeat = repeat;
      try {
        await base.run(kernel, inputs, attrs);
      } finally {
        rt.repeat = 1;
      }
      return rt.lastSeconds / repeat;
    },
  };
}
