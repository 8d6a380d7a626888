import { describe, expect, it } from 'vitest';
import { gptqQuantize } from './gptq';
import { prepareHessian } from './hessian';
import { rtnQuantize } from './rtn';
import { makeLayer, relReconError, sparqCode } from './test-data';

/** Gauss–Jordan inverse with partial pivoting (test-only, small n). */
function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

const rne = (v: number) => {
  const lo = Math.floor(v);
  return v - lo > 0.5 ? lo + 1 : v - lo < 0.5 ? lo : lo % 2 === 0 ? lo : lo + 1;
};

/** Min/max grid of a segment (README quantizer). */
function grid(x: number[], maxq: number, sym: boolean): { scale: number; zero: number } {
  let lo = Math.min(...x, 0);
  let hi = Math.max(...x, 0);
  if (sym) {
    hi = Math.max(-lo, hi);
    if (lo < 0) lo = -hi;
  }
  if (lo === 0 && hi === 0) [lo, hi] = [-1, 1];
  const scale = (hi - lo) / maxq;
  return { scale, zero: sym ? (maxq + 1) / 2 : rne(-lo / scale) };
}

/**
 * The defining OBS update, column by column, with the explicit inverse of the remaining (dampened) Hessian:
 * `w_F −= (w_j − q_j) / [H_F⁻¹]_jj · [H_F⁻¹]_{j,F}`. Grids: per-channel from the original W; static groups from
 * the dead-fixed W; or (`dynamic`) fitted on the current W at each group start.
 */
function slowGptq(W0: Float64Array, H0: Float64Array, rows: number, cols: number, o: { bits: number; sym: boolean; groupSize: number; actOrder?: boolean; dynamic?: boolean }) {
  const maxq = 2 ** o.bits - 1;
  const W = Array.from({ length: rows }, (_, r) => Array.from(W0.subarray(r * cols, (r + 1) * cols)));
  const H = Array.from({ length: cols }, (_, i) => Array.from(H0.subarray(i * cols, (i + 1) * cols)));
  const pc = W.map((row) => grid(row, maxq, o.sym));
  for (let j = 0; j < cols; j++) {
    if (H[j]![j] === 0) {
      H[j]![j] = 1;
      for (const row of W) row[j] = 0;
    }
  }
  const gs = o.groupSize === -1 ? cols : o.groupSize;
  const stat = W.map((row) => Array.from({ length: cols / gs }, (_, g) => grid(row.slice(g * gs, (g + 1) * gs), maxq, o.sym)));
  let perm = Array.from({ length: cols }, (_, j) => j);
  if (o.actOrder) perm = perm.sort((a, b) => H[b]![b]! - H[a]![a]!);
  const damp = (0.01 * H.reduce((s, row, i) => s + row[i]!, 0)) / cols;
  const Hp = perm.map((a) => perm.map((b) => H[a]![b]! + (a === b ? damp : 0)));
  const Wp = W.map((row) => perm.map((c) => row[c]!));
  const codes = new Uint8Array(rows * cols);
  const out = new Float64Array(rows * cols);
  const dyn: { scale: number; zero: number }[] = [];
  for (let j = 0; j < cols; j++) {
    const F = Array.from({ length: cols - j }, (_, t) => j + t);
    const inv = invert(F.map((a) => F.map((b) => Hp[a]![b]!)));
    for (let r = 0; r < rows; r++) {
      if (o.dynamic && j % gs === 0) dyn[r] = grid(Wp[r]!.slice(j, j + gs), maxq, o.sym);
      const p = o.groupSize === -1 ? pc[r]! : o.dynamic ? dyn[r]! : stat[r]![Math.floor(perm[j]! / gs)]!;
      const x = Wp[r]![j]!;
      const q = Math.min(maxq, Math.max(0, rne(x / p.scale) + p.zero));
      const xq = p.scale * (q - p.zero);
      codes[r * cols + perm[j]!] = q;
      out[r * cols + perm[j]!] = xq;
      const e = (x - xq) / inv[0]![0]!;
      for (let t = 1; t < F.length; t++) Wp[r]![j + t] -= e * inv[0]![t]!;
    }
  }
  return { codes, weight: out, perm };
}

describe('gptqQuantize', () => {
  const rows = 12;
  const cols = 40;
  const L = makeLayer(rows, cols, 120, 21, 7);
  const w = { rows, cols, data: L.W };

  const variants = [
    { name: 'per-channel 4-bit asym', o: { bits: 4, sym: false, groupSize: -1 } },
    { name: 'per-channel 3-bit sym, act-order', o: { bits: 3, sym: true, groupSize: -1, actOrder: true } },
    { name: 'static groups of 8, 4-bit asym, act-order', o: { bits: 4, sym: false, groupSize: 8, actOrder: true, staticGroups: true } },
    { name: 'groups of 8 = block size, 2-bit asym', o: { bits: 2, sym: false, groupSize: 8, dynamic: true } },
  ];
  for (const { name, o } of variants) {
    it(`equals the un-blocked OBS update with explicit inverses: ${name}`, () => {
      const ref = slowGptq(L.W, L.H, rows, cols, o);
      const res = gptqQuantize(w, L.H, { ...o, blockSize: 8 });
      expect(Array.from(res.codes)).toEqual(Array.from(ref.codes));
      let m = 0;
      for (let i = 0; i < ref.weight.length; i++) m = Math.max(m, Math.abs(ref.weight[i]! - res.weight[i]!));
      expect(m).toBeLessThanOrEqual(1e-10);
      if (o.actOrder) expect(Array.from(res.perm!)).toEqual(ref.perm);
      else expect(res.perm).toBeUndefined();
    });
  }

  it('with a diagonal Hessian reproduces RTN exactly (identical codes) in every configuration', () => {
    const Hd = new Float64Array(cols * cols);
    for (let j = 0; j < cols; j++) Hd[j * cols + j] = 1 + ((j * 7) % 5);
    for (const o of [
      { bits: 4, sym: false, groupSize: -1 },
      { bits: 3, sym: false, groupSize: 8 },
      { bits: 4, sym: true, groupSize: 8 },
      { bits: 4, sym: false, groupSize: 8, actOrder: true, staticGroups: true },
      { bits: 2, sym: false, groupSize: -1, actOrder: true },
      { bits: 3, sym: false, groupSize: 8, clipSearch: true },
    ]) {
      const g = gptqQuantize(w, Hd, o);
      const r = rtnQuantize(w, o);
      expect(Array.from(g.codes)).toEqual(Array.from(r.codes));
      expect(Array.from(g.weight)).toEqual(Array.from(r.weight));
      expect(Array.from(g.scales)).toEqual(Array.from(r.scales));
    }
  });

  it('lowers the reconstruction error below RTN on correlated inputs, and a prepared Hessian gives the same result', () => {
    const big = makeLayer(16, 64, 200, 5);
    const bw = { rows: 16, cols: 64, data: big.W };
    const o = { bits: 3, sym: false, groupSize: 16 };
    const g = gptqQuantize(bw, big.H, o);
    const r = rtnQuantize(bw, o);
    expect(relReconError(big.W, g.weight, big.X, 16, 64, 200)).toBeLessThan(relReconError(big.W, r.weight, big.X, 16, 64, 200));
    const prepared = prepareHessian(big.H, 64, { percDamp: 0.01 });
    const g2 = gptqQuantize(bw, new Float64Array(0), { ...o, prepared });
    expect(Array.from(g2.weight)).toEqual(Array.from(g.weight));
  });

  it('f16Stats keeps every stored scale f16-exact and W_hat equal to the §2 decode', () => {
    const g = gptqQuantize(w, L.H, { bits: 4, sym: false, groupSize: 8, f16Stats: true });
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        const s = g.scales[r * 5 + (j >> 3)]!;
        expect(Math.fround(s)).toBe(s);
        expect(g.weight[r * cols + j]).toBe(Math.fround(s * (g.codes[r * cols + j]! - g.zeros[r * 5 + (j >> 3)]!)));
      }
    }
  });

  it('rejects act-order with dynamic groups, mismatched Hessians and block sizes', () => {
    expect(sparqCode(() => gptqQuantize(w, L.H, { bits: 4, sym: false, groupSize: 8, actOrder: true }))).toBe('E_ARG');
    expect(sparqCode(() => gptqQuantize(w, new Float64Array(10), { bits: 4, sym: false, groupSize: 8 }))).toBe('E_SHAPE_MISMATCH');
    expect(sparqCode(() => gptqQuantize(w, L.H, { bits: 4, sym: false, groupSize: 8, blockSize: 0 }))).toBe('E_ARG');
    const prepared = prepareHessian(L.H, cols, { actOrder: true });
    expect(sparqCode(() => gptqQuantize(w, L.H, { bits: 4, sym: false, groupSize: -1, prepared }))).toBe('E_ARG');
  });
});
