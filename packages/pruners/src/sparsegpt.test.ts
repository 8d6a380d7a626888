/**
 * SparseGPT against its defining property: every column is the OBS step
 * computed directly from the explicit inverse of the remaining (damped)
 * Hessian `H[i:, i:]` — Gauss-Jordan inverses, no Cholesky, no blocking of the
 * update — with the masks chosen by the same rules on the current weights.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnQuantizer } from '@sparq/format';
import { choleskyUpperOfInverse, createRng, isSparqError } from '@sparq/tensor';
import { subMulNT, type SubMulNT } from './gemm';
import { inverseUpperFactor } from './inverse-factor';
import { magnitudePrune } from './magnitude';
import { parsePattern, verifyPattern, type SparsityPattern } from './pattern';
import { prepareSparseGpt, sparseGpt } from './sparsegpt';

/** Explicit inverse by Gauss-Jordan elimination with partial pivoting. */
function gaussJordanInverse(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[p * n + c]!)) p = r;
    for (let j = 0; j < n; j++) {
      [m[c * n + j], m[p * n + j]] = [m[p * n + j]!, m[c * n + j]!];
      [inv[c * n + j], inv[p * n + j]] = [inv[p * n + j]!, inv[c * n + j]!];
    }
    const piv = m[c * n + c]!;
    for (let j = 0; j < n; j++) {
      m[c * n + j] /= piv;
      inv[c * n + j] /= piv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        m[r * n + j] -= f * m[c * n + j]!;
        inv[r * n + j] -= f * inv[c * n + j]!;
      }
    }
  }
  return inv;
}

/** Indices of the k lowest scores by (score, index). */
function lowest(scores: number[], k: number): number[] {
  return scores
    .map((_, i) => i)
    .sort((a, b) => scores[a]! - scores[b]! || a - b)
    .slice(0, k);
}

interface SlowOpts {
  pattern: SparsityPattern;
  blockSize: number;
  percDamp: number;
  rule: 'exact' | 'reference';
  quantizer?: ColumnQuantizer;
}

/** The un-blocked OBS formulation with explicit inverses of the remaining Hessian. */
function slowSparseGpt(W0: Float64Array, rows: number, cols: number, H0: Float64Array, o: SlowOpts) {
  const W = Float64Array.from(W0);
  const H = Float64Array.from(H0);
  for (let j = 0; j < cols; j++) {
    if (H[j * cols + j] === 0) {
      H[j * cols + j] = 1;
      for (let r = 0; r < rows; r++) W[r * cols + j] = 0;
    }
  }
  let tr = 0;
  for (let j = 0; j < cols; j++) tr += H[j * cols + j]!;
  for (let j = 0; j < cols; j++) H[j * cols + j] += (o.percDamp * tr) / cols;
  // For every i: the first row of inv(H[i:, i:]).
  const d = new Float64Array(cols);
  const dir: Float64Array[] = [];
  for (let i = 0; i < cols; i++) {
    const t = cols - i;
    const sub = new Float64Array(t * t);
    for (let a = 0; a < t; a++) for (let b = 0; b < t; b++) sub[a * t + b] = H[(i + a) * cols + i + b]!;
    const inv = gaussJordanInverse(sub, t);
    d[i] = inv[0]!;
    dir.push(inv.slice(0, t));
  }
  const mask = new Uint8Array(rows * cols);
  const blocks: number[] = [];
  const groups: Float64Array[] = [];
  for (let i1 = 0; i1 < cols; i1 += o.blockSize) {
    const i2 = Math.min(i1 + o.blockSize, cols);
    const cnt = i2 - i1;
    if (o.pattern.kind === 'unstructured') {
      const s = o.pattern.sparsity;
      const scores: number[] = [];
      for (let r = 0; r < rows; r++) for (let k = 0; k < cnt; k++) scores.push(W[r * cols + i1 + k]! ** 2 / d[i1 + k]!);
      let chosen: number[];
      if (o.rule === 'exact') {
        chosen = lowest(scores, Math.floor(s * (rows * i2)) - Math.floor(s * (rows * i1)));
      } else {
        const th = [...scores].sort((a, b) => a - b)[Math.floor(s * (rows * cnt))]!;
        chosen = scores.flatMap((v, i) => (v <= th ? [i] : []));
      }
      for (const f of chosen) mask[Math.floor(f / cnt) * cols + i1 + (f % cnt)] = 1;
      blocks.push(chosen.length);
    }
    for (let i = i1; i < i2; i++) {
      if (o.pattern.kind === 'nm' && (i - i1) % o.pattern.m === 0) {
        const m = o.pattern.m;
        for (let r = 0; r < rows; r++) {
          const sc = Array.from({ length: m }, (_, j) => W[r * cols + i + j]! ** 2 / d[i + j]!);
          for (const j of lowest(sc, m - o.pattern.n)) mask[r * cols + i + j] = 1;
        }
      }
      const qz = o.quantizer;
      if (qz?.beginGroup && i % qz.groupSize === 0) {
        const width = Math.min(qz.groupSize, cols - i);
        const g = new Float64Array(rows * width);
        for (let r = 0; r < rows; r++) for (let t = 0; t < width; t++) g[r * width + t] = mask[r * cols + i + t] ? 0 : W[r * cols + i + t]!;
        groups.push(g);
        qz.beginGroup(g, i, width);
      }
      let q: Float64Array = Float64Array.from({ length: rows }, (_, r) => (mask[r * cols + i] ? 0 : W[r * cols + i]!));
      if (qz) q = qz.quantize(q, i);
      for (let r = 0; r < rows; r++) {
        const e = (W[r * cols + i]! - q[r]!) / d[i]!;
        const row = dir[i]!;
        for (let j = i; j < cols; j++) W[r * cols + j] -= e * row[j - i]!;
        W[r * cols + i] = q[r]!;
      }
    }
  }
  return { weight: W, mask, blocks, groups };
}

/** Correlated calibration data as in the fixtures: X = Z·A, an outlier channel and a dead one. */
function problem(rows: number, cols: number, n: number, seed: number, deadCol = -1) {
  const rng = createRng(seed);
  const Z = new Float64Array(n * cols);
  rng.fillNormal(Z);
  const A = new Float64Array(cols * cols);
  rng.fillNormal(A, 1 / Math.sqrt(cols));
  const X = new Float64Array(n * cols);
  for (let k = 0; k < n; k++) for (let a = 0; a < cols; a++) {
    const z = Z[k * cols + a]!;
    for (let j = 0; j < cols; j++) X[k * cols + j] += z * A[a * cols + j]!;
  }
  for (let k = 0; k < n; k++) {
    X[k * cols + 1] *= 20;
    if (deadCol >= 0) X[k * cols + deadCol] = 0;
  }
  const H = new Float64Array(cols * cols);
  for (let k = 0; k < n; k++) for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) H[i * cols + j] += (2 / n) * X[k * cols + i]! * X[k * cols + j]!;
  const W = new Float64Array(rows * cols);
  rng.fillNormal(W, 0.02);
  return { W, H };
}

/** Min/max asymmetric quantizer per row and group, statistics from beginGroup's block; records its calls. */
function groupQuantizer(rows: number, bits: number, groupSize: number) {
  const maxq = 2 ** bits - 1;
  const scale = new Float64Array(rows);
  const zero = new Float64Array(rows);
  const rnd = (x: number) => {
    const f = Math.floor(x);
    return x - f > 0.5 || (x - f === 0.5 && f % 2 !== 0) ? f + 1 : f;
  };
  const groups: Float64Array[] = [];
  const q: ColumnQuantizer = {
    bits,
    groupSize,
    beginGroup(block, _col0, width) {
      groups.push(Float64Array.from(block));
      for (let r = 0; r < rows; r++) {
        let lo = 0;
        let hi = 0;
        for (let t = 0; t < width; t++) (lo = Math.min(lo, block[r * width + t]!)), (hi = Math.max(hi, block[r * width + t]!));
        if (lo === 0 && hi === 0) (lo = -1), (hi = 1);
        scale[r] = (hi - lo) / maxq;
        zero[r] = rnd(-lo / scale[r]!);
      }
    },
    quantize(column) {
      return Float64Array.from(column, (x, r) => scale[r]! * (Math.min(Math.max(rnd(x / scale[r]!) + zero[r]!, 0), maxq) - zero[r]!));
    },
  };
  return { q, groups };
}

function expectClose(a: Float64Array, b: Float64Array, rel = 1e-10): void {
  let maxB = 0;
  let maxD = 0;
  for (let i = 0; i < b.length; i++) (maxB = Math.max(maxB, Math.abs(b[i]!))), (maxD = Math.max(maxD, Math.abs(a[i]! - b[i]!)));
  expect(maxD).toBeLessThanOrEqual(rel * maxB);
}

describe('sparseGpt vs un-blocked OBS with explicit inverses', () => {
  const rows = 7;
  const cols = 40;
  const { W, H } = problem(rows, cols, 96, 1, 13);
  const cases: { name: string; pattern: SparsityPattern; rule: 'exact' | 'reference' }[] = [
    { name: '50% exact', pattern: parsePattern('50%'), rule: 'exact' },
    { name: '50% reference', pattern: parsePattern('50%'), rule: 'reference' },
    { name: '37% exact', pattern: parsePattern('0.37'), rule: 'exact' },
    { name: '2:4', pattern: parsePattern('2:4'), rule: 'exact' },
    { name: '1:4', pattern: parsePattern('1:4'), rule: 'exact' },
    { name: '4:8', pattern: parsePattern('4:8'), rule: 'exact' },
    { name: '3:8', pattern: parsePattern('3:8'), rule: 'exact' },
  ];
  for (const c of cases) {
    it(`${c.name}, blocks of 16 (last block partial), dead column`, () => {
      const res = sparseGpt({ rows, cols, data: W }, H, { pattern: c.pattern, blockSize: 16, tieRule: c.rule });
      const slow = slowSparseGpt(W, rows, cols, H, { pattern: c.pattern, blockSize: 16, percDamp: 0.01, rule: c.rule });
      expect(Array.from(res.mask)).toEqual(Array.from(slow.mask));
      expectClose(res.weight, slow.weight);
      for (let i = 0; i < res.mask.length; i++) if (res.mask[i]) expect(res.weight[i]).toBe(0);
      for (let r = 0; r < rows; r++) expect(res.weight[r * cols + 13]).toBe(0); // dead column
      if (c.pattern.kind === 'nm') verifyPattern(res.mask, rows, cols, c.pattern);
      else if (c.rule === 'exact') {
        // Per-block counts are the increments of the cumulative layer target and sum to it.
        const s = c.pattern.kind === 'unstructured' ? c.pattern.sparsity : NaN;
        const perBlock = [0, 16, 32].map((i1) => {
          let n = 0;
          for (let r = 0; r < rows; r++) for (let j = i1; j < Math.min(i1 + 16, cols); j++) n += res.mask[r * cols + j]!;
          return n;
        });
        expect(perBlock).toEqual([16, 32, 40].map((i2, b) => Math.floor(s * (rows * i2)) - Math.floor(s * (rows * b * 16))));
        expect(slow.blocks).toEqual(perBlock);
        verifyPattern(res.mask, rows, cols, c.pattern);
      } else verifyPattern(res.mask, rows, cols, c.pattern, { tieRule: 'reference' });
    });
  }

  it("sparsity 0 with tieRule 'reference' prunes nothing and leaves the weights (no quantizer)", () => {
    const res = sparseGpt({ rows, cols, data: W }, H, { pattern: parsePattern('dense'), blockSize: 16, tieRule: 'reference' });
    expect(res.mask.reduce((a, b) => a + b, 0)).toBe(0);
    // The dead column is zeroed, everything else is untouched (zero errors → no updates).
    for (let i = 0; i < W.length; i++) expect(res.weight[i]).toBe(i % cols === 13 ? 0 : W[i]);
  });

  it('one block covering every column (blockSize > cols) is the same computation', () => {
    const res = sparseGpt({ rows, cols, data: W }, H, { pattern: parsePattern('2:4'), blockSize: 128 });
    const slow = slowSparseGpt(W, rows, cols, H, { pattern: parsePattern('2:4'), blockSize: 128, percDamp: 0.01, rule: 'exact' });
    expect(Array.from(res.mask)).toEqual(Array.from(slow.mask));
    expectClose(res.weight, slow.weight);
  });

  for (const [name, pattern, gs] of [
    ['50%, groups of 8 inside blocks', parsePattern('50%'), 8],
    ['2:4, groups of 8 inside blocks', parsePattern('2:4'), 8],
    ['50%, groups of 24 straddling blocks', parsePattern('50%'), 24],
    ['4:8, one group per row', parsePattern('4:8'), 40],
  ] as const) {
    it(`joint prune + 3-bit quantize: ${name}`, () => {
      const fast = groupQuantizer(rows, 3, gs);
      const ref = groupQuantizer(rows, 3, gs);
      const res = sparseGpt({ rows, cols, data: W }, H, { pattern, blockSize: 16, quantizer: fast.q });
      const slow = slowSparseGpt(W, rows, cols, H, { pattern, blockSize: 16, percDamp: 0.01, rule: 'exact', quantizer: ref.q });
      expect(Array.from(res.mask)).toEqual(Array.from(slow.mask));
      expect(fast.groups.length).toBe(Math.ceil(cols / gs));
      fast.groups.forEach((g, i) => expectClose(g, ref.groups[i]!));
      expectClose(res.weight, slow.weight);
      for (let i = 0; i < res.mask.length; i++) if (res.mask[i]) expect(Object.is(res.weight[i], 0)).toBe(true);
      // Every column lies on its row's grid: at most 2^bits distinct values per row and group.
      for (let r = 0; r < rows; r++) {
        for (let g0 = 0; g0 < cols; g0 += gs) {
          const vals = new Set(Array.from(res.weight.subarray(r * cols + g0, r * cols + Math.min(g0 + gs, cols))));
          expect(vals.size).toBeLessThanOrEqual(8);
        }
      }
    });
  }
});

describe('sparseGpt cross-checks and errors', () => {
  it('with H = I it reproduces the magnitude N:M mask and leaves kept weights unchanged', () => {
    const rows = 5;
    const cols = 32;
    const { W } = problem(rows, cols, 8, 3);
    const I = new Float64Array(cols * cols);
    for (let j = 0; j < cols; j++) I[j * cols + j] = 1;
    for (const p of ['2:4', '4:8', '1:4']) {
      const res = sparseGpt({ rows, cols, data: W }, I, { pattern: parsePattern(p) });
      const mag = magnitudePrune({ rows, cols, data: W }, parsePattern(p));
      expect(Array.from(res.mask)).toEqual(Array.from(mag.mask));
      expect(Array.from(res.weight)).toEqual(Array.from(mag.weight));
    }
    // Unstructured: one block = the whole layer here, so the masks agree too.
    const res = sparseGpt({ rows, cols, data: W }, I, { pattern: parsePattern('50%') });
    expect(Array.from(res.mask)).toEqual(Array.from(magnitudePrune({ rows, cols, data: W }, parsePattern('50%')).mask));
  });

  it('inverseUpperFactor agrees with @sparq/tensor choleskyUpperOfInverse and satisfies UᵀU·A = I', () => {
    for (const n of [1, 5, 19, 40]) {
      const { H } = problem(1, n, 3 * n, 9 + n);
      for (let j = 0; j < n; j++) H[j * n + j] += 0.1;
      const U = inverseUpperFactor(H, n);
      expectClose(U, choleskyUpperOfInverse(H, n), 1e-9);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(U[i * n + j]).toBe(0);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) {
            let utu = 0;
            for (let t = 0; t <= Math.min(i, k); t++) utu += U[t * n + i]! * U[t * n + k]!;
            s += utu * H[k * n + j]!;
          }
          expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-8);
        }
      }
    }
  });

  it('inverseUpperFactor across several 128-tiles and 256-deep GEMM chunks (n = 300, 420)', () => {
    for (const n of [300, 420]) {
      const rng = createRng(n);
      const B = new Float64Array(n * n);
      rng.fillNormal(B, 1 / Math.sqrt(n));
      // A = B Bᵀ + 0.05 I: SPD, moderately conditioned.
      const A = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let t = 0; t < n; t++) s += B[i * n + t]! * B[j * n + t]!;
        A[i * n + j] = s + (i === j ? 0.05 : 0);
        A[j * n + i] = A[i * n + j]!;
      }
      const U = inverseUpperFactor(A, n);
      expectClose(U, choleskyUpperOfInverse(A, n), 1e-8);
    }
  });

  it('uses an injected gemm kernel for the factor and the dense lazy update, with the same result', () => {
    const rows = 6;
    const cols = 300; // three 128-tiles in the factor
    const { W, H } = problem(rows, cols, 320, 12);
    const calls: string[] = [];
    const gemm: SubMulNT = (...a) => {
      calls.push(`${a[9]}x${a[10]}x${a[11]}`);
      subMulNT(...a);
    };
    const fast = groupQuantizer(rows, 4, 64);
    const ref = groupQuantizer(rows, 4, 64);
    const a = sparseGpt({ rows, cols, data: W }, H, { pattern: parsePattern('2:4'), quantizer: fast.q, gemm });
    const b = sparseGpt({ rows, cols, data: W }, H, { pattern: parsePattern('2:4'), quantizer: ref.q });
    expect(calls).toContain('128x128x128'); // a tile of the factor
    expect(calls).toContain(`${rows}x${cols - 128}x128`); // the dense lazy update after block 0
    expect(calls).toContain(`${rows}x${cols - 256}x128`); // ... and after block 1
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
    expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
  });

  it('a prepared factor gives the same result and serves several layers sharing the inputs', () => {
    const rows = 5;
    const cols = 48;
    const { W, H } = problem(rows, cols, 64, 21, 7);
    const { W: W2 } = problem(rows + 2, cols, 8, 22);
    const factor = prepareSparseGpt(H, cols, { percDamp: 0.02 });
    for (const [w, r] of [[W, rows], [W2, rows + 2]] as const) {
      for (const p of ['2:4', '50%']) {
        const a = sparseGpt({ rows: r, cols, data: w }, factor, { pattern: parsePattern(p), blockSize: 16 });
        const b = sparseGpt({ rows: r, cols, data: w }, H, { pattern: parsePattern(p), blockSize: 16, percDamp: 0.02 });
        expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
        expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
      }
    }
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isSparqError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => sparseGpt({ rows, cols, data: W }, factor, { pattern: parsePattern('2:4'), percDamp: 0.01 }))).toBe('E_ARG');
    expect(code(() => sparseGpt({ rows: 1, cols: 8, data: new Float64Array(8) }, factor, { pattern: parsePattern('2:4') }))).toBe('E_SHAPE_MISMATCH');
  });

  it('raises clear errors', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isSparqError(e) ? e.code : `other: ${String(e)}`;
      }
      return 'none';
    };
    const w = { rows: 2, cols: 8, data: Float64Array.from({ length: 16 }, (_, i) => i + 1) };
    const I = new Float64Array(64);
    for (let j = 0; j < 8; j++) I[j * 8 + j] = 1;
    expect(code(() => sparseGpt(w, new Float64Array(63), { pattern: parsePattern('2:4') }))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => sparseGpt(w, I, { pattern: parsePattern('2:4'), blockSize: 6 }))).toBe('E_ARG');
    expect(code(() => sparseGpt(w, I, { pattern: parsePattern('2:4'), blockSize: 0 }))).toBe('E_ARG');
    expect(code(() => sparseGpt(w, I, { pattern: { kind: 'nm', n: 3, m: 3 } }))).toBe('E_ARG');
    const neg = Float64Array.from(I);
    neg[9] = -5;
    expect(code(() => sparseGpt(w, neg, { pattern: parsePattern('2:4'), percDamp: 0 }))).toBe('E_NOT_POSITIVE_DEFINITE');
    expect(() => sparseGpt(w, neg, { pattern: parsePattern('2:4'), percDamp: 0, name: 'layers.0.wq' })).toThrow(
      /sparseGpt\(layers\.0\.wq\): damped Hessian is not positive definite: Cholesky pivot at column 1 /,
    );
    const nan = Float64Array.from(I);
    nan[3] = NaN;
    expect(code(() => sparseGpt(w, nan, { pattern: parsePattern('2:4') }))).toBe('E_ARG');
    const bad: ColumnQuantizer = { bits: 4, groupSize: 8, quantize: (c) => Float64Array.from(c, (x) => x + 0.5) };
    expect(code(() => sparseGpt(w, I, { pattern: parsePattern('2:4'), quantizer: bad }))).toBe('E_ARG');
    const short: ColumnQuantizer = { bits: 4, groupSize: 8, quantize: () => new Float64Array(1) };
    expect(code(() => sparseGpt(w, I, { pattern: parsePattern('2:4'), quantizer: short }))).toBe('E_SHAPE_MISMATCH');
  });

  it('does not modify its inputs', () => {
    const { W, H } = problem(4, 16, 32, 2, 5);
    const W0 = Float64Array.from(W);
    const H0 = Float64Array.from(H);
    sparseGpt({ rows: 4, cols: 16, data: W }, H, { pattern: parsePattern('2:4'), blockSize: 8 });
    expect(Array.from(W)).toEqual(Array.from(W0));
    expect(Array.from(H)).toEqual(Array.from(H0));
  });
});
