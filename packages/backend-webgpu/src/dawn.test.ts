/**
 * Node + Dawn (the `webgpu` package): the same backend code path as in
 * browsers. Without a usable GPU (this CI machine), Dawn finds no adapter and
 * `init()` must fail with the clear E_NO_BACKEND error rather than crash; on a
 * machine with one, the backend must initialise and compute correctly.
 */
import { isSparqError, matmulDenseRef, Tensor } from '@sparq/tensor';
import { create } from 'webgpu';
import { describe, expect, it } from 'vitest';
import { createWebGpuBackend } from './index';

describe('createWebGpuBackend with Dawn in Node', () => {
  it('reports "WebGPU unavailable: no adapter" when Dawn finds none, or runs when it does', async () => {
    const gpu = create([]);
    const hasAdapter = (await gpu.requestAdapter()) !== null;
    const backend = createWebGpuBackend({ gpu });
    if (!hasAdapter) {
      const err = await backend.init().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSparqError(err) && err.code).toBe('E_NO_BACKEND');
      expect((err as Error).message).toMatch(/^WebGPU unavailable: no adapter \(/);
      // run() reports the same instead of crashing.
      const t = new Tensor('f32', [1, 1], Float32Array.from([1]));
      await expect(backend.run('matmulDense', { a: t, b: t }, { transposeB: true })).rejects.toThrow(/WebGPU unavailable: no adapter/);
      return;
    }
    const a = new Tensor('f32', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
    const b = new Tensor('f32', [2, 3], Float32Array.from([1, 0, -1, 0.5, 0.25, 2]));
    const out = await backend.run('matmulDense', { a, b }, { transposeB: true });
    expect([...out.data]).toEqual([...matmulDenseRef({ a, b }, { transposeB: true }).data]);
    await backend.dispose();
  });

  it('explains a missing GPU entry point (no navigator.gpu in Node)', async () => {
    const err = await createWebGpuBackend().init().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSparqError(err) && err.code).toBe('E_NO_BACKEND');
    expect((err as Error).message).toMatch(/no GPU entry point.*"webgpu" package/);
  });
});
