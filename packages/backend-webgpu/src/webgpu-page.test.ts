/**
 * Backend behaviour beyond the kernel numerics, in headless Chromium: the
 * weight cache (upload once per weight object, release, re-upload), splitting
 * of weights larger than the binding limit, f16 dense weight storage, device
 * loss and unsupported inputs as clear SparqErrors.
 */
import { comparePacked, compareF32, F32_MAX_NMSE, randomNMQuant, randomQuantized } from '@sparq/conformance';
import { createRng, decodePacked, f16ArrayToF32, f32ArrayToF16, matmulDenseRef, matmulPackedRef, Tensor } from '@sparq/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWebGpuTestPage, unwrap, type WebGpuTestPage } from '../test/page-backend';
import { toWire } from '../test/wire';

const rng = createRng(0xb0b);
const normal = (rows: number, cols: number) => new Tensor('f32', [rows, cols], rng.fillNormal(new Float32Array(rows * cols)) as Float32Array);

describe('webgpu backend in headless Chromium', () => {
  let p: WebGpuTestPage;
  beforeAll(async () => {
    p = await openWebGpuTestPage();
  });
  afterAll(async () => {
    await p?.call('dispose');
    await p?.close();
  });

  it('uploads a weight once, reuses it, and drops it on release()', async () => {
    await p.call('init', {});
    const w = randomNMQuant(rng, 21, 256, 2, 4, 4, 64, false);
    const a = normal(2, 256);
    await p.call('put', 'w', toWire(w));
    const ref = matmulPackedRef(a, w);
    for (let i = 0; i < 2; i++) {
      const out = unwrap(await p.call('run', 'matmulNMQuant', { a: toWire(a), w: { $ref: 'w' } }, {})) as Tensor<'f32'>;
      expect(compareF32(out.data, ref.data).nmse).toBeLessThan(F32_MAX_NMSE);
    }
    expect(await p.call('stats')).toMatchObject({ weights: 1, chunks: 1, uploads: 1 });
    await p.call('release', 'w');
    expect(await p.call('stats')).toMatchObject({ weights: 0, bytes: 0, uploads: 1 });
    unwrap(await p.call('run', 'matmulNMQuant', { a: toWire(a), w: { $ref: 'w' } }, {}));
    expect(await p.call('stats')).toMatchObject({ weights: 1, uploads: 2 });
  });

  it('splits a weight larger than the binding limit along output rows', async () => {
    // 41 rows of 1024 4-bit codes = 512 B/row; a 2048 + 12 B limit holds 4 rows → 11 chunks.
    const info = await p.call('init', { maxBindingBytes: 2048 + 12 });
    expect(info.maxBindingBytes).toBe(2060);
    const w = randomQuantized(rng, 41, 1024, 4, 128, false);
    const a = normal(3, 1024);
    await p.call('put', 'w', toWire(w));
    const out = unwrap(await p.call('run', 'matmulQuant', { a: toWire(a), w: { $ref: 'w' } }, {})) as Tensor<'f32'>;
    expect(await p.call('stats')).toMatchObject({ weights: 1, chunks: 11 });
    const { nmse, maxRel } = comparePacked(out.data, matmulPackedRef(a, w).data, a.data, decodePacked(w), 3, 41, 1024);
    expect(nmse).toBeLessThan(F32_MAX_NMSE);
    expect(maxRel).toBeLessThan(1e-5);
  });

  it("stores dense transposeB weights as f16 with denseWeights: 'f16' (a · f16(b)ᵀ)", async () => {
    await p.call('init', { denseWeights: 'f16' });
    // m = 1, 5: row kernel; m = 17: tiled GEMM over f16 weights.
    for (const m of [1, 5, 17]) {
      const a = normal(m, 200);
      const b = normal(33, 200);
      const bHalf = new Tensor('f32', [33, 200], f16ArrayToF32(f32ArrayToF16(b.data)));
      const out = unwrap(await p.call('run', 'matmulDense', toWire({ a, b }), { transposeB: true })) as Tensor<'f32'>;
      expect(compareF32(out.data, matmulDenseRef({ a, b: bHalf }, { transposeB: true }).data).nmse).toBeLessThan(F32_MAX_NMSE);
      // …and it is not the f32 product (the weights really were rounded).
      expect(compareF32(out.data, matmulDenseRef({ a, b }, { transposeB: true }).data).nmse).toBeGreaterThan(1e-9);
    }
  });

  it('reports a lost device as E_NO_BACKEND on the next call', async () => {
    const r = await p.call('afterDeviceLoss');
    expect(r).toMatchObject({ ok: false, code: 'E_NO_BACKEND' });
    expect(r.ok === false && r.message).toMatch(/WebGPU device lost \(destroyed/);
  });

  it('refuses attention heads wider than the kernel handles, with the reason', async () => {
    await p.call('init', {});
    const q = normal(1, 512);
    const r = await p.call('run', 'attention', toWire({ q, k: q, v: q }), { numHeads: 1, numKvHeads: 1, headDim: 512, qPos0: 0 });
    expect(r).toMatchObject({ ok: false, code: 'E_KERNEL_UNSUPPORTED' });
    expect(r.ok === false && r.message).toMatch(/headDim 512 exceeds/);
  });

  it('profile() times repeated runs in one submission (benchmark helper)', async () => {
    await p.call('init', {});
    const a = normal(1, 256);
    const w = randomQuantized(rng, 64, 256, 4, 128, true);
    const seconds = await p.call('profile', 'matmulQuant', toWire({ a, w }), {}, 5);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(10);
  });

  it('reports shape errors as E_SHAPE_MISMATCH', async () => {
    const r = await p.call('run', 'matmulDense', toWire({ a: normal(2, 3), b: normal(4, 5) }), { transposeB: true });
    expect(r).toMatchObject({ ok: false, code: 'E_SHAPE_MISMATCH' });
  });
});
