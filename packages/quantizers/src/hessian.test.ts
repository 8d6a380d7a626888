import { choleskyUpperOfInverse } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { prepareHessian } from './hessian';
import { makeLayer, sparqCode } from './test-data';

describe('prepareHessian', () => {
  it('U equals the upper Cholesky factor of the inverse (inverse-then-factor in @sparq/tensor), dead fix and damp applied', () => {
    const L = makeLayer(4, 48, 96, 11, 5);
    const n = 48;
    const p = prepareHessian(L.H, n, { percDamp: 0.01 });
    expect(p.dead[5]).toBe(1);
    expect(p.dead.reduce((a, b) => a + b, 0)).toBe(1);
    const Hd = Float64Array.from(L.H);
    Hd[5 * n + 5] = 1;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += Hd[i * n + i]!;
    for (let i = 0; i < n; i++) Hd[i * n + i] += (0.01 * mean) / n;
    const ref = choleskyUpperOfInverse(Hd, n);
    let maxRef = 0;
    let maxDiff = 0;
    for (let i = 0; i < n * n; i++) {
      maxRef = Math.max(maxRef, Math.abs(ref[i]!));
      maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - p.U[i]!));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-10 * maxRef);
  });

  it('act-order permutes by decreasing diagonal before factoring', () => {
    const L = makeLayer(4, 23, 64, 12); // not a multiple of the 4-row panels
    const n = 23;
    const p = prepareHessian(L.H, n, { percDamp: 0.01, actOrder: true });
    const perm = Array.from(p.perm!);
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    for (let j = 1; j < n; j++) expect(L.H[perm[j - 1]! * n + perm[j - 1]!]).toBeGreaterThanOrEqual(L.H[perm[j]! * n + perm[j]!]!);
    const Hp = new Float64Array(n * n);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += L.H[i * n + i]!;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Hp[i * n + j] = L.H[perm[i]! * n + perm[j]!]! + (i === j ? (0.01 * mean) / n : 0);
    const ref = choleskyUpperOfInverse(Hp, n);
    for (let i = 0; i < n * n; i++) expect(Math.abs(ref[i]! - p.U[i]!)).toBeLessThanOrEqual(1e-9 * Math.abs(ref[0]!) + 1e-12);
  });

  it('fails loudly on an indefinite matrix and bad shapes', () => {
    expect(sparqCode(() => prepareHessian(new Float64Array([1, 2, 2, 1]), 2, { percDamp: 0 }))).toBe('E_NOT_POSITIVE_DEFINITE');
    expect(sparqCode(() => prepareHessian(new Float64Array(5), 2))).toBe('E_SHAPE_MISMATCH');
    expect(sparqCode(() => prepareHessian(new Float64Array([-1, 0, 0, 1]), 2))).toBe('E_ARG');
    expect(sparqCode(() => prepareHessian(new Float64Array([1, 0, 0, 1]), 2, { percDamp: -1 }))).toBe('E_ARG');
  });
});
