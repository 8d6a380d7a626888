/// <reference types="@webgpu/types" />
/**
 * Turns WebGPU's asynchronous failure reporting (device loss, error scopes)
 * into `SparqError`s with what happened and what to do.
 */
import { SparqError } from '@sparq/tensor';

/** The error every call after a device loss throws. */
export function deviceLostError(info: GPUDeviceLostInfo): SparqError {
  return new SparqError(
    'E_NO_BACKEND',
    `WebGPU device lost (${info.reason}${info.message ? `: ${info.message}` : ''}); this backend is unusable — dispose it and create a new one`,
  );
}

/**
 * Runs `work` inside `out-of-memory` and `validation` error scopes and throws
 * what they caught: OOM as `E_NO_BACKEND` naming `what` and the bytes it
 * needed, a validation error (a bug in a kernel) as `E_INTERNAL`.
 */
export async function withErrorScopes<T>(device: GPUDevice, what: string, bytes: number, work: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T | undefined;
  let failed = false;
  let failure: unknown;
  try {
    result = await work();
  } catch (e) {
    failed = true;
    failure = e;
  }
  // Pop both scopes whatever happened (innermost first) so they never leak;
  // a scope's error explains a failure better than, e.g., a rejected mapAsync.
  const pop = () => device.popErrorScope().catch(() => null);
  const validation = await pop();
  const oom = await pop();
  if (oom) {
    throw new SparqError(
      'E_NO_BACKEND',
      `WebGPU out of memory while ${what} (${(bytes / 2 ** 20).toFixed(1)} MiB requested): ${oom.message}. Free weights with release(), use a smaller model, or a device with more memory`,
    );
  }
  if (validation) throw new SparqError('E_INTERNAL', `WebGPU validation error while ${what}: ${validation.message}`);
  if (failed) throw failure;
  return result as T;
}
