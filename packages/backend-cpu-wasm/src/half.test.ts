// matmulDense with f16 / bf16-stored weights: the half kernels widen exactly,
// so they must give the f32 kernels' result on the widened weights bit for
// bit (same backend, same thread split), whatever the shape, the layout, the
// thread count and the special values; and both must match the float64
// reference.
import { compareF32 } from '@sparq/conformance';
import { createRng, f32ArrayToBf16, f32ArrayToF16, isSparqError, matmulDenseRef, Tensor, type Backend } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuWasmBackend } from './index';

const rng = createRng(1616);
const randn = (len: number) => rng.fillNormal(new Float32Array(len)) as Float32Array;

/** Equal as f32 values, NaN equal to NaN. */
function sameValues(x: Float32Array, y: Float32Array): number {
  let bad = 0;
  for (let i = 0; i < x.length; i++) if (!(x[i] === y[i] || (Number.isNaN(x[i]) && Number.isNaN(y[i])))) bad++;
  return bad;
}

const half = (dtype: 'f16' | 'bf16', shape: [number, number], w: Float32Array) =>
  new Tensor(dtype, shape, dtype === 'f16' ? f32ArrayToF16(w) : f32ArrayToBf16(w));

describe('cpu-wasm matmulDense with half-precision weights', () => {
  const backends: Backend[] = [];
  const make = (threads: number) => {
    const b = createCpuWasmBackend({ threads, minParallelWork: 0 });
    backends.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.dispose()));
  });

  /**
   * The f32 kernel's result on the widened weights in the half kernel's order: batches up to 3 run the GEMV once
   * per row (assembly/dense.ts HALF_ROW_GEMV_MAX_M), so one-row f32 calls; larger batches one f32 call.
   */
  const f32Like = async (be: Backend, x: Tensor<'f32'>, wide: Tensor<'f32'>, transposeB: boolean): Promise<Float32Array> => {
    const [m, k] = x.shape as [number, number];
    if (m > 3) return (await be.run('matmulDense', { a: x, b: wide }, { transposeB })).data;
    const rows: number[] = [];
    for (let i = 0; i < m; i++) {
      const row = new Tensor('f32', [1, k], x.data.slice(i * k, (i + 1) * k));
      rows.push(...(await be.run('matmulDense', { a: row, b: wide }, { transposeB })).data);
    }
    return Float32Array.from(rows);
  };

  it('equals the f32 kernel on the widened weights bit for bit, and the float64 reference', async () => {
    const one = make(1);
    const two = make(2);
    // k: the SIMD step (8) and 4-wide tails, scalar tails, and row strides that pick either f32 GEMV arithmetic
    // (k·4 a multiple of 4 KiB: two accumulators); n: partial row quads, claims above 64 rows; m: GEMV, odd, tiles + 1.
    const shapes: [number, number, number][] = [
      [1, 1, 1], [1, 3, 5], [1, 4, 7], [1, 13, 9], [1, 1024, 70], [1, 1030, 70], [1, 2048, 1100],
      [2, 8, 3], [3, 37, 66], [4, 1030, 70], [9, 1024, 70], [33, 257, 131], [5, 4100, 130],
    ];
    for (const [m, k, n] of shapes) {
      for (const dtype of ['f16', 'bf16'] as const) {
        for (const transposeB of [true, false]) {
          const b = half(dtype, transposeB ? [n, k] : [k, n], randn(k * n));
          const wide = b.toF32();
          const a = new Tensor('f32', [m, k], randn(m * k));
          // The f16 GEMV pre-scales activations below 2^16 by 2^112; one of 2^16 or more takes the unscaled kernel.
          const big = new Tensor('f32', [m, k], a.data.map((v, i) => (i === k >> 1 ? 70000 : v)));
          const what = `${dtype} m=${m} k=${k} n=${n} ${transposeB ? 'bT' : 'b'}`;
          for (const be of [one, two]) {
            for (const x of [a, big]) {
              const y = (await be.run('matmulDense', { a: x, b }, { transposeB })).data;
              const y32 = await f32Like(be, x, wide, transposeB);
              expect(sameValues(y, y32), `${what}${x === big ? ', |x| ≥ 2^16' : ''}`).toBe(0);
            }
          }
          const y = (await two.run('matmulDense', { a, b }, { transposeB })).data;
          expect(compareF32(y, matmulDenseRef({ a, b: wide }, { transposeB }).data).nmse, what).toBeLessThan(1e-10);
        }
      }
    }
  });

  it('widens every f16 and bf16 bit pattern exactly: zeros, subnormals, the largest values, infinities, NaNs', async () => {
    const be = make(2);
    // Every f16 pattern once (65536 of them), as an [n, k] weight against one-hot activations: out = the widened column.
    const k = 64;
    const n = 65536 / k;
    const bits = new Uint16Array(65536);
    for (let i = 0; i < bits.length; i++) bits[i] = i;
    for (const dtype of ['f16', 'bf16'] as const) {
      const b = new Tensor(dtype, [n, k], bits);
      const wide = b.toF32();
      for (const p of [0, 5, 63]) {
        for (const m of [1, 4]) {
          const a = new Float32Array(m * k);
          for (let i = 0; i < m; i++) a[i * k + p] = 1;
          const y = (await be.run('matmulDense', { a: new Tensor('f32', [m, k], a), b }, { transposeB: true })).data;
          let bad = 0;
          for (let j = 0; j < n; j++) {
            const ref = wide.data[j * k + p]!;
            const got = y[j]!;
            // 1·w + 0·(the others): w exactly (up to the sign of a zero), or NaN when another weight of the row is
            // infinite or NaN (0·inf).
            let othersSpecial = false;
            for (let i = 0; i < k; i++) if (i !== p && !Number.isFinite(wide.data[j * k + i]!)) othersSpecial = true;
            const ok = othersSpecial || Number.isNaN(ref) ? Number.isNaN(got) : got === ref;
            if (!ok) bad++;
          }
          expect(bad, `${dtype} column ${p}, m=${m}`).toBe(0);
        }
      }
      // And the same products as the f32 kernel on the widened weights, specials included.
      const a = new Tensor('f32', [3, k], randn(3 * k));
      const y = (await be.run('matmulDense', { a, b }, { transposeB: true })).data;
      const y32 = await f32Like(be, a, wide, true);
      expect(sameValues(y, y32), dtype).toBe(0);
    }
  });

  it('keeps f16 weights without infinities on the fast path and with them on the exact one', async () => {
    const be = make(2);
    const k = 24;
    const w = randn(2 * k);
    const b = half('f16', [2, k], w);
    const withInf = new Tensor('f16', [2, k], b.data.slice());
    withInf.data[k + 3] = 0x7c00; // +inf in row 1
    const a = new Tensor('f32', [1, k], randn(k));
    const y = (await be.run('matmulDense', { a, b: withInf }, { transposeB: true })).data;
    expect(y[0]).toBe((await be.run('matmulDense', { a, b }, { transposeB: true })).data[0]);
    expect(y[1]).toBe(a.data[3]! > 0 ? Infinity : -Infinity);
  });

  it('rejects other weight types with a clear error', async () => {
    const be = make(1);
    const a = new Tensor('f32', [1, 4], randn(4));
    const b = new Tensor('i32', [2, 4], new Int32Array(8));
    expect(be.supports('matmulDense', { a, b } as never, { transposeB: true })).toMatch(/f32, f16 or bf16 weights, found b i32/);
    let err: unknown;
    try {
      await be.run('matmulDense', { a, b } as never, { transposeB: true });
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_KERNEL_UNSUPPORTED');
  });
});
