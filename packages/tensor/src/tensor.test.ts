import { describe, expect, it } from 'vitest';
import { createTableBackend, type KernelTable } from './backend';
import { SparqError, isSparqError } from './errors';
import { createReferenceBackend, matmulDenseRef } from './reference-kernels';
import { Tensor, assertShape } from './tensor';
import { f32ToBf16, f32ToF16 } from './half';

describe('Tensor', () => {
  it('checks that storage matches the shape', () => {
    expect(() => new Tensor('f32', [2, 3], new Float32Array(5))).toThrow(/holds 5 elements but shape \[2, 3\] needs 6/);
    expect(() => new Tensor('f32', [2, -1], new Float32Array(0))).toThrow(SparqError);
    expect(new Tensor('f32', [], new Float32Array(1)).size).toBe(1);
  });

  it('widens f16, bf16 and integers to f32 exactly', () => {
    const vals = [0, -0, 1.5, -2.25, 65504, 2 ** -24, 3.140625];
    const h = new Tensor('f16', [vals.length], Uint16Array.from(vals.map(f32ToF16)));
    expect(Array.from(h.toF32().data)).toEqual(vals);
    const b = new Tensor('bf16', [2], Uint16Array.from([1.5, -3].map(f32ToBf16)));
    expect(Array.from(b.toF32().data)).toEqual([1.5, -3]);
    const i = new Tensor('i64', [2], BigInt64Array.from([5n, -7n]));
    expect(Array.from(i.toF32().data)).toEqual([5, -7]);
  });

  it('assertShape names the tensor and both shapes', () => {
    const t = Tensor.zeros('f32', [4, 2]);
    expect(() => assertShape(t, [2, 4], 'wq')).toThrow('wq: expected shape [2, 4], found [4, 2]');
    expect(() => assertShape(t, [-1, 2], 'wq')).not.toThrow();
  });
});

describe('reference backend and the kernel table', () => {
  it('matmulDenseRef computes a hand-checked product, with and without transposeB', async () => {
    const a = Tensor.f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = Tensor.f32([3, 2], [7, 8, 9, 10, 11, 12]);
    expect(Array.from(matmulDenseRef({ a, b }, { transposeB: false }).data)).toEqual([58, 64, 139, 154]);
    const bt = Tensor.f32([2, 3], [7, 9, 11, 8, 10, 12]);
    const be = createReferenceBackend();
    const out = await be.run('matmulDense', { a, b: bt }, { transposeB: true });
    expect(out.shape).toEqual([2, 2]);
    expect(Array.from(out.data)).toEqual([58, 64, 139, 154]);
  });

  it('rejects mismatched inner dimensions with both sizes', () => {
    const a = Tensor.f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = Tensor.f32([2, 2], [1, 2, 3, 4]);
    expect(() => matmulDenseRef({ a, b }, { transposeB: false })).toThrow(/a is \[2, 3\] but b has 2 rows/);
  });

  it('reports unsupported and missing kernels with a reason', async () => {
    const table: KernelTable<{ max: number }> = {
      matmulDense: {
        name: 'matmulDense',
        supports: (inp, _attrs, ctx) => (inp.a.shape[0]! <= ctx.max ? true : `batch above ${ctx.max}`),
        run: (inp, attrs) => matmulDenseRef(inp, attrs),
      },
    };
    const be = createTableBackend('toy', table, { max: 1 });
    const a = Tensor.f32([2, 1], [1, 2]);
    const b = Tensor.f32([1, 1], [3]);
    expect(be.supports('matmulDense', { a, b }, { transposeB: true })).toBe('batch above 1');
    const err = await be.run('matmulDense', { a, b }, { transposeB: true }).catch((e: unknown) => e);
    expect(isSparqError(err) && err.code).toBe('E_KERNEL_UNSUPPORTED');
    const empty = createTableBackend('empty', {}, null);
    expect(empty.supports('matmulDense', { a, b }, { transposeB: true })).toMatch(/not implemented by the empty backend/);
  });
});
