/// <reference types="@webgpu/types" />
/**
 * Device acquisition: one code path for browsers (`navigator.gpu`) and Node
 * (the `webgpu` package's Dawn `GPU` object), or a caller-provided device.
 */
import { SparqError } from '@sparq/tensor';

/** Options of device acquisition (part of `WebGpuBackendOptions`). */
export interface DeviceOptions {
  /** A ready device to use (its limits and features as created). Wins over `gpu`. */
  device?: GPUDevice;
  /** The `GPU` entry point: `navigator.gpu` in browsers (the default), `create([])` from the `webgpu` package in Node. */
  gpu?: GPU;
  /** Adapter preference (default: the implementation's choice). */
  powerPreference?: GPUPowerPreference;
}

/** What was acquired. */
export interface AcquiredDevice {
  device: GPUDevice;
  /** Adapter description (`vendor`/`architecture`), when known. */
  adapter: string;
  /** Whether the device has `shader-f16` enabled. */
  shaderF16: boolean;
}

function defaultGpu(): GPU | undefined {
  // `navigator` exists in browsers and (without `gpu`) in Node ≥ 21.
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu;
}

/**
 * Requests an adapter and a device with the adapter's largest storage-binding
 * and buffer limits (the defaults, 128/256 MiB, would force needless weight
 * splits) and `shader-f16` when offered. Throws `E_NO_BACKEND` with the reason.
 */
export async function acquireDevice(opts: DeviceOptions): Promise<AcquiredDevice> {
  if (opts.device) {
    return { device: opts.device, adapter: 'caller-provided device', shaderF16: opts.device.features.has('shader-f16') };
  }
  const gpu = opts.gpu ?? defaultGpu();
  if (!gpu) {
    throw new SparqError(
      'E_NO_BACKEND',
      'WebGPU unavailable: no GPU entry point (navigator.gpu is undefined — not a secure context or no WebGPU support; in Node pass { gpu: create([]) } from the "webgpu" package)',
    );
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  } catch (e) {
    throw new SparqError('E_NO_BACKEND', `WebGPU unavailable: requestAdapter() failed (${(e as Error).message})`, { cause: e });
  }
  if (!adapter) {
    throw new SparqError(
      'E_NO_BACKEND',
      'WebGPU unavailable: no adapter (requestAdapter() returned null — no GPU or driver this WebGPU implementation can use; in Chromium without a GPU, launch with --enable-unsafe-webgpu for SwiftShader)',
    );
  }
  const shaderF16 = adapter.features.has('shader-f16');
  const info = adapter.info ? `${adapter.info.vendor} ${adapter.info.architecture}`.trim() : '';
  try {
    const device = await adapter.requestDevice({
      requiredFeatures: shaderF16 ? ['shader-f16'] : [],
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
    return { device, adapter: info || 'unknown adapter', shaderF16 };
  } catch (e) {
    throw new SparqError('E_NO_BACKEND', `WebGPU unavailable: requestDevice() failed on ${info || 'the adapter'} (${(e as Error).message})`, { cause: e });
  }
}
