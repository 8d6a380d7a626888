import { describe, expect, it } from 'vitest';
import { isSparqError } from '@sparq/tensor';
import { magnitudePrune } from './magnitude';
import { parsePattern, verifyPattern, type SparsityPattern } from './pattern';
import { randomWeights, refNm, refUnstructured } from './test-reference';

function countOnes(m: Uint8Array): number {
  return m.reduce((s, v) => s + v, 0);
}

describe('magnitudePrune', () => {
  const rows = 13;
  const cols = 48;
  for (const levels of [0, 3]) {
    for (const s of [0, 0.3, 0.5, 0.77]) {
      it(`unstructured ${s} (${levels ? 'many ties' : 'no ties'}) prunes exactly floor(s·numel), lowest |W| first`, () => {
        const data = randomWeights(rows, cols, 7 + levels, levels);
        const res = magnitudePrune({ rows, cols, data }, { kind: 'unstructured', sparsity: s });
        const k = Math.floor(s * rows * cols);
        expect(Array.from(res.mask)).toEqual(Array.from(refUnstructured(Array.from(data, Math.abs), k, 'exact')));
        expect(countOnes(res.mask)).toBe(k);
        verifyPattern(res.mask, rows, cols, { kind: 'unstructured', sparsity: s });
        for (let i = 0; i < data.length; i++) expect(res.weight[i]).toBe(res.mask[i] ? 0 : data[i]);
      });
    }
  }

  it("tieRule 'reference' prunes |W| ≤ sorted[floor(s·numel)]", () => {
    const data = randomWeights(rows, cols, 3, 3);
    const res = magnitudePrune({ rows, cols, data }, parsePattern('50%'), { tieRule: 'reference' });
    const ref = refUnstructured(Array.from(data, Math.abs), Math.floor(0.5 * rows * cols), 'reference');
    expect(Array.from(res.mask)).toEqual(Array.from(ref));
    expect(countOnes(res.mask)).toBeGreaterThan(Math.floor(0.5 * rows * cols));
  });

  it("sparsity 0 ('dense') prunes nothing, also under tieRule 'reference'", () => {
    const data = randomWeights(rows, cols, 5);
    for (const tieRule of ['exact', 'reference'] as const) {
      const res = magnitudePrune({ rows, cols, data }, parsePattern('dense'), { tieRule });
      expect(countOnes(res.mask)).toBe(0);
      expect(Array.from(res.weight)).toEqual(Array.from(data));
    }
  });

  for (const p of ['1:4', '2:4', '3:4', '4:8', '2:8', '8:16', '1:2']) {
    it(`N:M ${p} matches the float64 reference (with ties)`, () => {
      const pattern = parsePattern(p) as Extract<SparsityPattern, { kind: 'nm' }>;
      for (const levels of [0, 2]) {
        const data = randomWeights(rows, cols, 11, levels);
        const res = magnitudePrune({ rows, cols, data }, pattern);
        expect(Array.from(res.mask)).toEqual(Array.from(refNm(data.map(Math.abs), rows, cols, pattern.n, pattern.m)));
        verifyPattern(res.mask, rows, cols, pattern);
        expect(countOnes(res.mask)).toBe((rows * cols * (pattern.m - pattern.n)) / pattern.m);
      }
    });
  }

  it('rejects bad shapes, non-finite weights and N:M that does not divide cols', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isSparqError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => magnitudePrune({ rows: 2, cols: 4, data: new Float64Array(7) }, parsePattern('50%')))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => magnitudePrune({ rows: 1, cols: 2, data: Float64Array.of(1, NaN) }, parsePattern('50%')))).toBe('E_ARG');
    expect(code(() => magnitudePrune({ rows: 1, cols: 6, data: new Float64Array(6) }, parsePattern('2:4')))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => magnitudePrune({ rows: 1, cols: 4, data: new Float64Array(4) }, { kind: 'unstructured', sparsity: 1 }))).toBe('E_ARG');
  });
});
