import { describe, expect, it } from 'vitest';
import { SparqError } from './errors';
import {
  cholesky,
  choleskyInverse,
  choleskyUpperOfInverse,
  solveLower,
  solveLowerTransposed,
  solveUpper,
} from './linalg';
import { createRng } from './rng';

/** A random SPD matrix B Bᵀ + n·I. */
function randomSpd(n: number, seed: number): Float64Array {
  const r = createRng(seed);
  const B = new Float64Array(n * n).map(() => r.normal());
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += B[i * n + k]! * B[j * n + k]!;
      A[i * n + j] = s;
    }
  return A;
}
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
      c[i * n + j] = s;
    }
  return c;
}
function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('linalg', () => {
  it('factors a hand-computed 3×3 example exactly', () => {
    // A = L Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]] (a textbook example).
    const A = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);
    expect(Array.from(cholesky(A, 3))).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
  });

  it.each([1, 5, 32, 97])('L Lᵀ reconstructs a random SPD matrix (n = %i)', (n) => {
    const A = randomSpd(n, n);
    const L = cholesky(A, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(L[i * n + j]).toBe(0);
    expect(maxAbsDiff(matmul(L, transpose(L, n), n), A)).toBeLessThan(1e-9 * n);
  });

  it('inverts through Cholesky: A · A⁻¹ = I', () => {
    const n = 40;
    const A = randomSpd(n, 3);
    const I = matmul(A, choleskyInverse(A, n), n);
    const eye = new Float64Array(n * n).map((_, k) => (k % (n + 1) === 0 ? 1 : 0));
    expect(maxAbsDiff(I, eye)).toBeLessThan(1e-10);
  });

  it('gives the upper factor of the inverse: Uᵀ U = A⁻¹', () => {
    const n = 24;
    const A = randomSpd(n, 9);
    const U = choleskyUpperOfInverse(A, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(U[i * n + j]).toBe(0);
    const UtU = matmul(transpose(U, n), U, n);
    expect(maxAbsDiff(matmul(A, UtU, n), new Float64Array(n * n).map((_, k) => (k % (n + 1) === 0 ? 1 : 0)))).toBeLessThan(1e-10);
  });

  it('solves triangular systems with several right-hand sides', () => {
    const n = 20;
    const m = 3;
    const A = randomSpd(n, 11);
    const L = cholesky(A, n);
    const r = createRng(5);
    const b = new Float64Array(n * m).map(() => r.normal());
    // L x = b  →  check L·x
    const x = solveLower(L, n, b, m);
    const Lt = transpose(L, n);
    const y = solveLowerTransposed(L, n, b, m);
    const z = solveUpper(Lt, n, b, m);
    expect(maxAbsDiff(y, z)).toBeLessThan(1e-12);
    for (let c = 0; c < m; c++)
      for (let i = 0; i < n; i++) {
        let s = 0;
        let t = 0;
        for (let k = 0; k < n; k++) {
          s += L[i * n + k]! * x[k * m + c]!;
          t += Lt[i * n + k]! * y[k * m + c]!;
        }
        expect(Math.abs(s - b[i * m + c]!)).toBeLessThan(1e-10);
        expect(Math.abs(t - b[i * m + c]!)).toBeLessThan(1e-10);
      }
  });

  it('rejects a matrix that is not positive definite, naming the pivot', () => {
    const A = Float64Array.from([1, 2, 2, 1]);
    try {
      cholesky(A, 2, { what: 'H of layer 3' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SparqError);
      expect((e as SparqError).code).toBe('E_NOT_POSITIVE_DEFINITE');
      expect((e as SparqError).message).toMatch(/H of layer 3.*pivot 1 of 2/);
    }
  });

  it('dampening makes a singular PSD matrix factorable (absolute and relative)', () => {
    const A = Float64Array.from([1, 1, 1, 1]); // rank 1
    expect(() => cholesky(A, 2)).toThrow(SparqError);
    const L = cholesky(A, 2, { relativeDamp: 0.01 }); // + 0.01 · mean diag = 0.01
    expect(L[0]).toBeCloseTo(Math.sqrt(1.01), 14);
    const L2 = cholesky(A, 2, { damp: 0.01 });
    expect(Array.from(L2)).toEqual(Array.from(L));
  });

  it('rejects a wrong-sized buffer', () => {
    expect(() => cholesky(new Float64Array(5), 2)).toThrow(/expected 2×2 = 4 entries, found 5/);
  });
});
