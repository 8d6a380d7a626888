import { createRng, isSparqError, type PackedBits } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { decodeBilevelStat, decodeSpqr, encodeOutliers, encodeSpqr, quantizeBilevelStat, validateOutliers } from './spqr';
import { refF16, refGetCode, sameF32 } from './test-reference';

const rng = createRng(5);

/** §6 reference: fround(f32(statScale)·(code − f32(statZero))) off the packed bytes. */
function refStat(s: ReturnType<typeof quantizeBilevelStat>, rows: number, groups: number): Float32Array {
  const out = new Float32Array(rows * groups);
  const rb = Math.ceil((groups * s.bits) / 8);
  for (let r = 0; r < rows; r++) for (let t = 0; t < groups; t++) {
    const b = Math.floor(r / s.groupRows) * groups + t;
    out[r * groups + t] = Math.fround(refF16(s.scale[b]!) * (refGetCode(s.codes, r * rb, t, s.bits) - refF16(s.zero[b]!)));
  }
  return out;
}

describe('bilevel statistics (§6)', () => {
  it('decode equals the reference and approximates the input within half a step', () => {
    for (const bits of [2, 3, 4, 8] as PackedBits[]) {
      for (const [rows, groups, g2] of [[16, 4, 16], [37, 3, 16], [5, 1, 2], [1, 2, 16]] as const) {
        const v = new Float64Array(rows * groups).map(() => 0.01 + rng.float() * 0.05);
        const s = quantizeBilevelStat(v, rows, groups, bits, g2);
        const dec = decodeBilevelStat(s, rows, groups);
        expect(sameF32(dec, refStat(s, rows, groups))).toBe(true);
        for (let r = 0; r < rows; r++) for (let t = 0; t < groups; t++) {
          const b = Math.floor(r / g2) * groups + t;
          const step = refF16(s.scale[b]!);
          // half a step, plus slack for the f16 rounding of scale and zero
          expect(Math.abs(dec[r * groups + t]! - v[r * groups + t]!)).toBeLessThanOrEqual(step * 0.5 + step * 2 ** -8 * 2 ** bits + 1e-6);
        }
      }
    }
  });

  it('a constant block decodes to the f16 of its value', () => {
    const s = quantizeBilevelStat(Float64Array.of(0.3, 0.3, 0.3), 3, 1, 3, 16);
    expect(Array.from(decodeBilevelStat(s, 3, 1))).toEqual([0.300048828125, 0.300048828125, 0.300048828125]);
  });
});

describe('outliers (§5)', () => {
  it('CSR build, validation and errors', () => {
    const mask = Uint8Array.of(0, 1, 0, 1, /**/ 0, 0, 0, 0, /**/ 1, 0, 0, 0);
    const vals = Float32Array.of(0, 2.5, 0, -1, 0, 0, 0, 0, 100, 0, 0, 0);
    const o = encodeOutliers(3, 4, mask, vals);
    expect(Array.from(o.rowPtr)).toEqual([0, 2, 2, 3]);
    expect(Array.from(o.cols)).toEqual([1, 3, 0]);
    expect(o.cols).toBeInstanceOf(Uint16Array);
    expect(Array.from(o.values).map(refF16)).toEqual([2.5, -1, 100]);
    expect(encodeOutliers(1, 70000, new Uint8Array(70000), new Float32Array(70000)).cols).toBeInstanceOf(Uint32Array);
    const bad = { ...o, cols: Uint16Array.of(3, 1, 0) };
    let err: unknown;
    try { validateOutliers(bad, 3, 4, 'w'); } catch (e) { err = e; }
    expect(isSparqError(err) && err.code).toBe('E_ARG');
    expect((err as Error).message).toContain('row 0');
  });
});

describe('SpqrMatrix', () => {
  it('decode equals base dequantization with outliers overwriting, for bits × group', () => {
    for (const bits of [2, 3, 4] as PackedBits[]) {
      for (const [rows, cols, gs] of [[16, 32, 16], [19, 48, 16], [3, 8, 8]] as const) {
        const G = cols / gs;
        const codes = new Uint8Array(rows * cols).map(() => rng.int(1 << bits));
        const scales = quantizeBilevelStat(new Float64Array(rows * G).map(() => 0.01 + rng.float() * 0.1), rows, G, 3, 16);
        const zeros = quantizeBilevelStat(new Float64Array(rows * G).map(() => rng.float() * ((1 << bits) - 1)), rows, G, 3, 16);
        const mask = new Uint8Array(rows * cols).map(() => (rng.float() < 0.05 ? 1 : 0));
        const ov = new Float32Array(rows * cols).map(() => rng.normal() * 10);
        const x = encodeSpqr({ rows, cols, bits, groupSize: gs, codes, scales, zeros, outliers: encodeOutliers(rows, cols, mask, ov) });
        const dec = decodeSpqr(x);
        const s = refStat(scales, rows, G);
        const z = refStat(zeros, rows, G);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          const g = r * G + Math.floor(c / gs);
          const want = mask[i] ? refF16(x.outliers.values[Array.from(x.outliers.cols.subarray(x.outliers.rowPtr[r]!, x.outliers.rowPtr[r + 1]!)).indexOf(c) + x.outliers.rowPtr[r]!]!) : Math.fround(s[g]! * (codes[i]! - z[g]!));
          expect(Object.is(dec[i], want) || dec[i] === want).toBe(true);
        }
      }
    }
  });
});
