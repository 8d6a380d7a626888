import { f16ToF32, f32ToF16, isSparqError } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { rtnQuantize } from './rtn';
import { makeLayer, sparqCode } from './test-data';

/** Independent half-to-even rounding: nearest integer, ties decided by parity of floor. */
function rne(v: number): number {
  const lo = Math.floor(v);
  const hi = Math.ceil(v);
  if (v - lo < hi - v) return lo;
  if (hi - v < v - lo) return hi;
  return lo % 2 === 0 ? lo : hi;
}

/** Float64 reference of the min/max quantizer on one segment (README "Quantizer"), optionally with GPTQ's mse search. */
function refQuant(x: number[], bits: number, sym: boolean, mse?: { grid: number; maxShrink: number; norm: number }) {
  const maxq = 2 ** bits - 1;
  let xmin = Math.min(...x, 0);
  let xmax = Math.max(...x, 0);
  if (sym) {
    xmax = Math.max(Math.abs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin === 0 && xmax === 0) [xmin, xmax] = [-1, 1];
  const params = (lo: number, hi: number) => {
    const scale = (hi - lo) / maxq;
    return { scale, zero: sym ? (maxq + 1) / 2 : rne(-lo / scale) };
  };
  const q = (v: number, p: { scale: number; zero: number }) => Math.min(maxq, Math.max(0, rne(v / p.scale) + p.zero));
  let best = params(xmin, xmax);
  if (mse) {
    let bestErr = Infinity;
    for (let i = 0; i < Math.floor(mse.maxShrink * mse.grid); i++) {
      const s = 1 - i / mse.grid;
      const p = params(s * xmin, s * xmax);
      const err = x.reduce((acc, v) => acc + Math.abs(p.scale * (q(v, p) - p.zero) - v) ** mse.norm, 0);
      if (err < bestErr) [bestErr, best] = [err, p];
    }
  }
  const codes = x.map((v) => q(v, best));
  return { ...best, codes, deq: codes.map((c) => best.scale * (c - best.zero)) };
}

function checkAgainstRef(rows: number, cols: number, data: Float64Array, bits: number, groupSize: number, sym: boolean, mse?: { grid: number; maxShrink: number; norm: number }) {
  const res = rtnQuantize({ rows, cols, data }, { bits, groupSize, sym, clipSearch: mse ?? false });
  const gs = groupSize === -1 ? cols : groupSize;
  const G = cols / gs;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      const seg = Array.from(data.subarray(r * cols + g * gs, r * cols + (g + 1) * gs));
      const ref = refQuant(seg, bits, sym, mse);
      expect(res.scales[r * G + g]).toBe(ref.scale);
      expect(res.zeros[r * G + g]).toBe(ref.zero);
      for (let k = 0; k < gs; k++) {
        expect(res.codes[r * cols + g * gs + k]).toBe(ref.codes[k]);
        expect(res.weight[r * cols + g * gs + k]).toBe(ref.deq[k]);
      }
    }
  }
}

describe('rtnQuantize', () => {
  const { W } = makeLayer(12, 64, 1, 3);
  // A zero row and an all-positive row; symmetric groups tie naturally (the most negative element gives −maxq/2).
  W.fill(0, 0, 64);
  for (let j = 0; j < 64; j++) W[64 + j] = Math.abs(W[64 + j]!) + 0.001;

  for (const bits of [2, 3, 4, 8]) {
    for (const groupSize of [-1, 8, 32]) {
      for (const sym of [false, true]) {
        it(`matches the float64 reference: ${bits} bits, group ${groupSize}, ${sym ? 'sym' : 'asym'}`, () => {
          checkAgainstRef(12, 64, W, bits, groupSize, sym);
        });
      }
    }
  }

  it('clip search matches the reference mse search and never increases the group error', () => {
    const mse = { grid: 100, maxShrink: 0.8, norm: 2.4 };
    checkAgainstRef(12, 64, W, 3, 16, false, mse);
    checkAgainstRef(12, 64, W, 4, -1, true, { ...mse, norm: 2 });
    const plain = rtnQuantize({ rows: 12, cols: 64, data: W }, { bits: 3, groupSize: 16, sym: false });
    const clip = rtnQuantize({ rows: 12, cols: 64, data: W }, { bits: 3, groupSize: 16, sym: false, clipSearch: { norm: 2 } });
    for (let r = 0; r < 12; r++) {
      for (let g = 0; g < 4; g++) {
        let ep = 0;
        let ec = 0;
        for (let k = r * 64 + g * 16; k < r * 64 + (g + 1) * 16; k++) {
          ep += (plain.weight[k]! - W[k]!) ** 2;
          ec += (clip.weight[k]! - W[k]!) ** 2;
        }
        expect(ec).toBeLessThanOrEqual(ep);
      }
    }
  });

  it('f16Stats stores f16-exact scales and decodes as fround(scale·(q − zero))', () => {
    const res = rtnQuantize({ rows: 12, cols: 64, data: W }, { bits: 4, groupSize: 16, sym: false, f16Stats: true });
    for (let i = 0; i < res.scales.length; i++) {
      expect(f16ToF32(f32ToF16(res.scales[i]!))).toBe(res.scales[i]);
      expect(res.scales[i]).toBeGreaterThan(0);
    }
    for (let r = 0; r < 12; r++) {
      for (let j = 0; j < 64; j++) {
        const g = r * 4 + (j >> 4);
        expect(res.weight[r * 64 + j]).toBe(Math.fround(res.scales[g]! * (res.codes[r * 64 + j]! - res.zeros[g]!)));
      }
    }
  });

  it('rejects bad input with SparqError codes', () => {
    const w = { rows: 2, cols: 8, data: new Float64Array(16) };
    expect(sparqCode(() => rtnQuantize(w, { bits: 1, groupSize: -1, sym: false }))).toBe('E_ARG');
    expect(sparqCode(() => rtnQuantize(w, { bits: 9, groupSize: -1, sym: false }))).toBe('E_ARG');
    expect(sparqCode(() => rtnQuantize(w, { bits: 4, groupSize: 3, sym: false }))).toBe('E_SHAPE_MISMATCH');
    expect(sparqCode(() => rtnQuantize({ ...w, data: new Float64Array(15) }, { bits: 4, groupSize: -1, sym: false }))).toBe('E_SHAPE_MISMATCH');
    const nan = new Float64Array(16);
    nan[5] = NaN;
    try {
      rtnQuantize({ ...w, data: nan }, { bits: 4, groupSize: -1, sym: false });
      expect.unreachable();
    } catch (e) {
      expect(isSparqError(e) && e.code).toBe('E_ARG');
      expect(String((e as Error).message)).toContain('weight[0, 5]');
    }
  });
});
