import { decodeSpqr, encodeSpqr, packBits } from '@sparq/format';
import { f16ToF32, f32ToF16, type BilevelStat } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { prepareHessian } from './hessian';
import { rtnQuantize } from './rtn';
import { spqrAverageBits, spqrQuantize, type SpqrResult } from './spqr';
import { makeLayer, relReconError, sparqCode } from './test-data';

const f16 = (x: number) => f16ToF32(f32ToF16(x));
const rne = (v: number) => {
  const lo = Math.floor(v);
  return v - lo > 0.5 ? lo + 1 : v - lo < 0.5 ? lo : lo % 2 === 0 ? lo : lo + 1;
};

/** Checks the §5/§6 invariants: stats decode from their codes, Ŵ decodes from codes + stats, outliers overwrite. */
function checkDecodes(res: SpqrResult, useF16: boolean) {
  const { rows, cols, groupSize: gs } = res;
  const G = cols / gs;
  const maxq = 2 ** res.bits - 1;
  for (const st of [res.scales, res.zeros]) {
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < G; g++) {
        const h = Math.floor(r / st.groupRows);
        const s = st.scale[h * G + g]!;
        const z = st.zero[h * G + g]!;
        const code = st.codes[r * G + g]!;
        expect(code).toBeLessThanOrEqual(2 ** st.bits - 1);
        if (useF16) {
          expect(f16(s)).toBe(s);
          expect(f16(z)).toBe(z);
          expect(st.values[r * G + g]).toBe(Math.fround(Math.fround(s) * (code - Math.fround(z))));
        } else expect(st.values[r * G + g]).toBe(s * (code - z));
      }
    }
  }
  const isOut = new Uint8Array(rows * cols);
  const { rowPtr, cols: oc, values } = res.outliers;
  expect(rowPtr[rows]).toBe(values.length);
  for (let r = 0; r < rows; r++) {
    for (let k = rowPtr[r]!; k < rowPtr[r + 1]!; k++) {
      if (k > rowPtr[r]!) expect(oc[k]!).toBeGreaterThan(oc[k - 1]!);
      isOut[r * cols + oc[k]!] = 1;
      if (useF16) expect(f16(values[k]!)).toBe(values[k]);
      expect(Math.fround(res.weight[r * cols + oc[k]!]!)).toBe(values[k]);
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (isOut[r * cols + c]) continue;
      const g = Math.floor(c / gs);
      const q = res.codes[r * cols + c]!;
      expect(q).toBeLessThanOrEqual(maxq);
      const v = res.scales.values[r * G + g]! * (q - res.zeros.values[r * G + g]!);
      expect(res.weight[r * cols + c]).toBe(useF16 ? Math.fround(v) : v);
    }
  }
}

/** Squared error in the H metric, tr(ΔW H ΔWᵀ). */
function hError(W: Float64Array, What: Float64Array, H: Float64Array, rows: number, cols: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) {
      const di = W[r * cols + i]! - What[r * cols + i]!;
      for (let j = 0; j < cols; j++) s += di * H[i * cols + j]! * (W[r * cols + j]! - What[r * cols + j]!);
    }
  }
  return s;
}

describe('spqrQuantize', () => {
  const rows = 32;
  const cols = 64;
  const L = makeLayer(rows, cols, 160, 8, 9);
  // Planted outliers: a few weights 25× larger than their neighbours.
  const planted = [3 * cols + 5, 10 * cols + 40, 17 * cols + 63, 30 * cols + 20];
  for (const i of planted) L.W[i] = 25 * 0.02 * (i % 2 ? 1 : -1) * 3;
  const w = { rows, cols, data: L.W };

  it('with a diagonal Hessian and no outliers equals independent per-weight rounding on bilevel-quantized stats', () => {
    const Hd = new Float64Array(cols * cols);
    for (let j = 0; j < cols; j++) Hd[j * cols + j] = j === 9 ? 0 : 1 + (j % 3); // column 9 dead
    for (const useF16 of [false, true]) {
      const res = spqrQuantize(w, Hd, { bits: 3, groupSize: 16, statBits: 3, statGroupRows: 16, outlierThreshold: Infinity, f16Stats: useF16 });
      const G = cols / 16;
      for (let g = 0; g < G; g++) {
        // First level: min/max without 0, unrounded zero; dead column 9 is zeroed first.
        const s1: number[] = [];
        const z1: number[] = [];
        for (let r = 0; r < rows; r++) {
          const seg = Array.from({ length: 16 }, (_, t) => (g * 16 + t === 9 ? 0 : L.W[r * cols + g * 16 + t]!));
          let lo = Math.min(...seg);
          let hi = Math.max(...seg);
          if (lo === hi) [lo, hi] = [-1, 1];
          s1.push((hi - lo) / 7);
          z1.push(-lo / ((hi - lo) / 7));
        }
        const second = (v: number[]) =>
          v.map((x, r) => {
            const grp = v.slice(Math.floor(r / 16) * 16, Math.floor(r / 16) * 16 + 16);
            const lo = Math.min(...grp);
            const hi = Math.max(...grp);
            let sc = lo === hi ? 1 : (hi - lo) / 7;
            let ze = lo === hi ? -lo : -lo / sc;
            if (useF16) [sc, ze] = [f16(sc), f16(ze)];
            const code = Math.min(7, Math.max(0, rne(x / sc + ze)));
            return useF16 ? Math.fround(sc * (code - ze)) : sc * (code - ze);
          });
        const sd = second(s1);
        const zd = second(z1);
        for (let r = 0; r < rows; r++) {
          expect(res.scales.values[r * G + g]).toBe(sd[r]);
          expect(res.zeros.values[r * G + g]).toBe(zd[r]);
          for (let t = 0; t < 16; t++) {
            const c = g * 16 + t;
            const x = c === 9 ? 0 : L.W[r * cols + c]!;
            const q = Math.min(7, Math.max(0, rne(x / sd[r]! + zd[r]!)));
            expect(res.codes[r * cols + c]).toBe(q);
            const v = sd[r]! * (q - zd[r]!);
            expect(res.weight[r * cols + c]).toBe(useF16 ? Math.fround(v) : v);
          }
        }
      }
      expect(res.outliers.values.length).toBe(0);
    }
  });

  it('keeps outliers in f16, finds the planted ones, and lowers the error; stats decode per §6', () => {
    const none = spqrQuantize(w, L.H, { outlierThreshold: Infinity, f16Stats: true });
    const out = spqrQuantize(w, L.H, { outlierThreshold: 0.2, f16Stats: true });
    checkDecodes(none, true);
    checkDecodes(out, true);
    const nnz = out.outliers.values.length;
    expect(nnz).toBeGreaterThan(0);
    expect(nnz).toBeLessThan(0.05 * rows * cols);
    const found = new Set<number>();
    for (let r = 0; r < rows; r++) for (let k = out.outliers.rowPtr[r]!; k < out.outliers.rowPtr[r + 1]!; k++) found.add(r * cols + out.outliers.cols[k]!);
    for (const i of planted) expect(found.has(i), `planted outlier ${i}`).toBe(true);
    expect(hError(L.W, out.weight, L.H, rows, cols)).toBeLessThan(hError(L.W, none.weight, L.H, rows, cols));
    // SpQR 3-bit g16 beats RTN 3-bit g16 by a wide margin on the calibration data.
    const rtn = rtnQuantize(w, { bits: 3, groupSize: 16, sym: false });
    expect(relReconError(L.W, out.weight, L.X, rows, cols, L.n)).toBeLessThan(0.5 * relReconError(L.W, rtn.weight, L.X, rows, cols, L.n));
  });

  it('with f16Stats, Ŵ equals what the packed format decodes (SpqrMatrix through @sparq/format), bit for bit', () => {
    for (const actOrder of [false, true]) {
      const res = spqrQuantize(w, L.H, { outlierThreshold: 0.2, f16Stats: true, actOrder });
      const G = cols / res.groupSize;
      const stat = (s: SpqrResult['scales']): BilevelStat => ({
        bits: 3,
        groupRows: s.groupRows,
        codes: packBits(s.codes, rows, G, 3),
        scale: Uint16Array.from(s.scale, (v) => f32ToF16(v)),
        zero: Uint16Array.from(s.zero, (v) => f32ToF16(v)),
      });
      const m = encodeSpqr({
        rows,
        cols,
        bits: 3,
        groupSize: res.groupSize,
        codes: res.codes,
        scales: stat(res.scales),
        zeros: stat(res.zeros),
        outliers: { ...res.outliers, values: Uint16Array.from(res.outliers.values, (v) => f32ToF16(v)) },
      });
      expect(Array.from(decodeSpqr(m))).toEqual(Array.from(res.weight));
    }
  });

  it('act-order keeps groups on original columns and decodes consistently (pure f64 too)', () => {
    const res = spqrQuantize(w, L.H, { actOrder: true, outlierThreshold: 0.2 });
    expect(res.perm).toBeDefined();
    checkDecodes(res, false);
    const rtn = rtnQuantize(w, { bits: 3, groupSize: 16, sym: false });
    expect(relReconError(L.W, res.weight, L.X, rows, cols, L.n)).toBeLessThan(relReconError(L.W, rtn.weight, L.X, rows, cols, L.n));
  });

  it('averageBits follows the storage formula', () => {
    const res = spqrQuantize(w, L.H, { bits: 3, groupSize: 16, statBits: 3, statGroupRows: 16, outlierThreshold: 0.2 });
    const nnz = res.outliers.values.length;
    // 32×64 at 3 bits; G = 4 groups; 3+3 stat bits per (row, group); 2 stats × 2 row-groups × 4 groups × (f16 + f16);
    // 32 bits per outlier; 33 u32 row pointers.
    const bitsTotal = 32 * 64 * 3 + 32 * 4 * 6 + 2 * 2 * 4 * 32 + 32 * nnz + 32 * 33;
    expect(res.averageBits).toBe(bitsTotal / (32 * 64));
    // Rows not a multiple of the second-level group: ceil(20/16) = 2 row-groups.
    expect(spqrAverageBits({ rows: 20, cols: 64, bits: 2, groupSize: 16, statBits: 3, statGroupRows: 16, outliers: 5 })).toBe(
      (20 * 64 * 2 + 20 * 4 * 6 + 2 * 2 * 4 * 32 + 5 * 32 + 32 * 21) / (20 * 64),
    );
  });

  it('rejects bad options', () => {
    expect(sparqCode(() => spqrQuantize(w, L.H, { groupSize: 12 }))).toBe('E_SHAPE_MISMATCH');
    expect(sparqCode(() => spqrQuantize(w, L.H, { bits: 1 }))).toBe('E_ARG');
    expect(sparqCode(() => spqrQuantize(w, L.H, { outlierThreshold: -1 }))).toBe('E_ARG');
    expect(sparqCode(() => spqrQuantize(w, L.H, { statGroupRows: 0 }))).toBe('E_ARG');
    expect(sparqCode(() => spqrQuantize(w, L.H, { statBits: 9 }))).toBe('E_ARG');
    const prepared = prepareHessian(L.H, cols, { actOrder: true });
    expect(sparqCode(() => spqrQuantize(w, L.H, { prepared }))).toBe('E_ARG');
  });
});
