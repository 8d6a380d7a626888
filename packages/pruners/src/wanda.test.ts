import { describe, expect, it } from 'vitest';
import { CalibrationStats, createRng, isSparqError } from '@sparq/tensor';
import { randomWeights, refNm, refUnstructured } from './test-reference';
import { parsePattern, verifyPattern, type SparsityPattern } from './pattern';
import { wandaPrune } from './wanda';

describe('wandaPrune', () => {
  const rows = 9;
  const cols = 64;
  const n = 40;
  const rng = createRng(5);
  const X = new Float64Array(n * cols);
  rng.fillNormal(X);
  for (let k = 0; k < n; k++) {
    X[k * cols + 3] *= 20; // outlier channel
    X[k * cols + 10] = 0; // dead channel
  }
  const stats = new CalibrationStats(cols);
  stats.addBatch(X, n);
  const { meanSquare } = stats.result();
  // Independent statistic: the column norm of X, float64, written out here.
  const norm = Array.from({ length: cols }, (_, j) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += X[k * cols + j]! ** 2;
    return Math.sqrt(s / n);
  });

  for (const levels of [0, 2]) {
    for (const s of [0.5, 0.3, 0.9]) {
      it(`unstructured ${s} per row (${levels ? 'ties' : 'no ties'}) matches the float64 reference`, () => {
        const data = randomWeights(rows, cols, 21 + levels, levels);
        const res = wandaPrune({ rows, cols, data }, meanSquare, { kind: 'unstructured', sparsity: s });
        let total = 0;
        for (let r = 0; r < rows; r++) {
          const score = Array.from({ length: cols }, (_, j) => Math.abs(data[r * cols + j]!) * norm[j]!);
          // Row quota: the increment of the cumulative layer target (float64 products as the code's convention).
          const k = Math.floor(s * (cols * (r + 1))) - Math.floor(s * (cols * r));
          total += k;
          expect(Array.from(res.mask.subarray(r * cols, (r + 1) * cols)), `row ${r}`).toEqual(Array.from(refUnstructured(score, k, 'exact')));
        }
        expect(total).toBe(Math.floor(s * (rows * cols)));
        verifyPattern(res.mask, rows, cols, { kind: 'unstructured', sparsity: s });
        expect(res.mask.reduce((a, b) => a + b, 0)).toBe(Math.floor(s * (rows * cols)));
        for (let i = 0; i < data.length; i++) expect(res.weight[i]).toBe(res.mask[i] ? 0 : data[i]);
        // The dead channel scores 0 and is always pruned.
        for (let r = 0; r < rows; r++) expect(res.mask[r * cols + 10]).toBe(1);
      });
    }
  }

  for (const p of ['2:4', '4:8', '1:4', '8:16']) {
    it(`N:M ${p} matches the float64 reference`, () => {
      const pattern = parsePattern(p) as Extract<SparsityPattern, { kind: 'nm' }>;
      const data = randomWeights(rows, cols, 4);
      const res = wandaPrune({ rows, cols, data }, meanSquare, pattern);
      const score = data.map((v, i) => Math.abs(v) * norm[i % cols]!);
      expect(Array.from(res.mask)).toEqual(Array.from(refNm(score, rows, cols, pattern.n, pattern.m)));
      verifyPattern(res.mask, rows, cols, pattern);
    });
  }

  it('rejects a meanSquare of the wrong length or with negative entries', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isSparqError(e) ? e.code : 'other';
      }
      return 'none';
    };
    const w = { rows: 1, cols: 4, data: Float64Array.of(1, 2, 3, 4) };
    expect(code(() => wandaPrune(w, new Float64Array(3), parsePattern('50%')))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => wandaPrune(w, Float64Array.of(1, -1, 1, 1), parsePattern('50%')))).toBe('E_ARG');
  });
});
