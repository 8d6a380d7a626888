// Backend lifecycle: without a usable GPU, init() rejects with a clear
// E_NO_BACKEND error, supports() gives the reason, run() rejects; with one,
// the same calls succeed. Plus the routing of packed weights to kernels.
import { randomNM, randomNMQuant, randomQuantized, randomSpqr } from '@sparq/conformance';
import { createRng, isSparqError, Tensor } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { createCudaBackend, cudaPackedPath, cudaStatus } from './index';

const rng = createRng(3);
const status = cudaStatus();
const a = new Tensor('f32', [2, 8], rng.fillNormal(new Float32Array(16)) as Float32Array);
const b = new Tensor('f32', [3, 8], rng.fillNormal(new Float32Array(24)) as Float32Array);

describe.runIf(!status.available)('cuda backend without a usable GPU', () => {
  it('init() rejects with E_NO_BACKEND and "CUDA backend unavailable: <reason>"', async () => {
    const be = createCudaBackend();
    let err: unknown;
    try {
      await be.init();
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_NO_BACKEND');
    expect((err as Error).message).toBe(`CUDA backend unavailable: ${status.reason}`);
    await be.dispose();
  });

  it('supports() returns the reason for every kernel; run() rejects', async () => {
    const be = createCudaBackend();
    expect(be.supports('matmulDense', { a, b }, { transposeB: true })).toBe(`CUDA backend unavailable: ${status.reason}`);
    const w = randomQuantized(rng, 4, 8, 4, 8, true);
    expect(be.supports('matmulQuant', { a, w }, {})).toMatch(/^CUDA backend unavailable: /);
    await expect(be.run('matmulDense', { a, b }, { transposeB: true })).rejects.toThrow(/CUDA backend unavailable/);
    await be.dispose();
  });
});

describe.runIf(status.available)('cuda backend with a GPU', () => {
  it('init() resolves and matmulDense runs', async () => {
    const be = createCudaBackend();
    await be.init();
    expect(be.supports('matmulDense', { a, b }, { transposeB: true })).toBe(true);
    const y = await be.run('matmulDense', { a, b }, { transposeB: true });
    expect([...y.shape]).toEqual([2, 3]);
    await be.dispose();
  });
});

describe('packed-weight routing', () => {
  it('sends each layout to the kernel that can read it', () => {
    expect(cudaPackedPath(randomQuantized(rng, 4, 64, 4, 32, true))).toBe('int4');
    expect(cudaPackedPath(randomQuantized(rng, 4, 64, 4, 64, false))).toBe('int4');
    expect(cudaPackedPath(randomQuantized(rng, 4, 21, 4, 7, false))).toBe('decode_f16');
    expect(cudaPackedPath(randomQuantized(rng, 4, 64, 8, 32, true))).toBe('decode_f16');
    expect(cudaPackedPath(randomNMQuant(rng, 4, 256, 2, 4, 4, 128, true))).toBe('sparse24_int4');
    expect(cudaPackedPath(randomNMQuant(rng, 4, 48, 2, 4, 4, 16, true))).toBe('decode_f16');
    expect(cudaPackedPath(randomNMQuant(rng, 4, 128, 4, 8, 4, 32, true))).toBe('decode_f16');
    expect(cudaPackedPath(randomNM(rng, 4, 64, 2, 4))).toBe('nm_f32');
    expect(cudaPackedPath(randomNM(rng, 4, 64, 2, 4), true)).toBe('sparse24');
    expect(cudaPackedPath(randomNM(rng, 4, 64, 4, 8), true)).toBe('nm_f32');
  });

  it('routes SpQR to the host decode + dense f16 kernel', () => {
    expect(cudaPackedPath(randomSpqr(rng, 20, 64, 3, 16, 16))).toBe('spqr_f16');
  });
});
