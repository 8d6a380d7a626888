/**
 * Error-scope mapping with a stand-in device (no GPU needed): what WebGPU
 * reports through popErrorScope becomes a SparqError naming what was being
 * done. (Device loss is exercised on a real device in webgpu-page.test.ts.)
 */
import { isSparqError } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { withErrorScopes } from './gpu-errors';

/** A device whose error scopes pop the given errors (innermost first: validation, then OOM). */
function fakeDevice(validation: string | null, oom: string | null): { device: GPUDevice; pushed: string[] } {
  const pushed: string[] = [];
  const popped = [validation, oom];
  const device = {
    pushErrorScope: (f: string) => pushed.push(f),
    popErrorScope: async () => {
      const m = popped.shift();
      return m ? { message: m } : null;
    },
  } as unknown as GPUDevice;
  return { device, pushed };
}

const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('withErrorScopes', () => {
  it('returns the result when no scope caught anything', async () => {
    const { device, pushed } = fakeDevice(null, null);
    await expect(withErrorScopes(device, 'x', 0, () => 42)).resolves.toBe(42);
    expect(pushed).toEqual(['out-of-memory', 'validation']);
  });
  it('turns an out-of-memory scope error into E_NO_BACKEND with the size and what was happening', async () => {
    const { device } = fakeDevice(null, 'Not enough memory');
    const e = await caught(withErrorScopes(device, 'uploading quant weight [4096, 4096]', 3 * 2 ** 20, () => 1));
    expect(isSparqError(e) && e.code).toBe('E_NO_BACKEND');
    expect((e as Error).message).toMatch(/WebGPU out of memory while uploading quant weight \[4096, 4096\] \(3\.0 MiB requested\): Not enough memory/);
  });
  it('turns a validation error into E_INTERNAL', async () => {
    const { device } = fakeDevice('Binding size too small', null);
    const e = await caught(withErrorScopes(device, 'matmul', 0, () => 1));
    expect(isSparqError(e) && e.code).toBe('E_INTERNAL');
    expect((e as Error).message).toMatch(/validation error while matmul: Binding size too small/);
  });
  it('prefers the scope error over the failure it caused, and pops both scopes either way', async () => {
    const { device } = fakeDevice(null, 'OOM');
    const e = await caught(withErrorScopes(device, 'readback', 0, () => Promise.reject(new Error('mapAsync rejected'))));
    expect((e as Error).message).toMatch(/out of memory/);
    const clean = fakeDevice(null, null);
    const f = await caught(withErrorScopes(clean.device, 'readback', 0, () => Promise.reject(new Error('mapAsync rejected'))));
    expect((f as Error).message).toBe('mapAsync rejected');
  });
});
