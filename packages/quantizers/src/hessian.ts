/**
 * Hessian preparation shared by GPTQ and SpQR, in the reference order:
 * dead-column fix → optional act-order permutation → dampening → `U`, the
 * upper Cholesky factor of the dampened inverse (`Uᵀ U = (H + damp·I)⁻¹`).
 *
 * `U` is computed without forming the inverse: with `J` the reversal
 * permutation, `J H J = L Lᵀ` gives `H = V Vᵀ` for the upper `V = J L J`, so
 * `H⁻¹ = V⁻ᵀ V⁻¹` and `U = V⁻¹ = J L⁻¹ J` — one Cholesky and one triangular
 * inverse (n³/3 multiply-adds instead of the ~4n³/3 of inverse-then-Cholesky),
 * equal to the reference factor up to rounding (~1e-15 relative).
 */
import { SparqError } from '@sparq/tensor';
import { checkHessian } from './validate';

/** Options of {@link prepareHessian}. */
export interface PrepareHessianOptions {
  /** Dampening as a fraction of the mean diagonal (after the dead fix). Default 0.01. */
  percDamp?: number;
  /** Process columns by decreasing `diag(H)` (GPTQ's act-order). Default false. */
  actOrder?: boolean;
  /** Name used in error messages (e.g. the layer). */
  what?: string;
}

/** A Hessian ready for the sequential solvers; reusable for every layer that shares the same inputs (q/k/v). */
export interface PreparedHessian {
  readonly cols: number;
  /** `cols × cols` upper Cholesky factor of `(H_p + damp·I)⁻¹`, in processing order (row-major; lower part 0). */
  readonly U: Float64Array;
  /** 1 for every original column with `H_jj = 0` (its weights are zeroed before solving). */
  readonly dead: Uint8Array;
  /** Processing position → original column; absent for the identity (no act-order). */
  readonly perm?: Int32Array;
  readonly percDamp: number;
}

/**
 * Dead fix, act-order permutation, dampening and the inverse factor `U` of a `cols × cols` Hessian `h`
 * (`h` is not modified). Throws `E_NOT_POSITIVE_DEFINITE` when the dampened H is not positive definite.
 */
export function prepareHessian(h: Float64Array, cols: number, opts: PrepareHessianOptions = {}): PreparedHessian {
  const what = opts.what ?? 'prepareHessian';
  checkHessian(h, cols, what);
  const percDamp = opts.percDamp ?? 0.01;
  if (!(Number.isFinite(percDamp) && percDamp >= 0)) {
    throw new SparqError('E_ARG', `${what}: percDamp must be a finite number ≥ 0, found ${percDamp}`, {
      details: { expected: '≥ 0', found: percDamp },
    });
  }
  const n = cols;
  const dead = new Uint8Array(n);
  const diag = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const d = h[j * n + j]!;
    if (d === 0) dead[j] = 1;
    diag[j] = d === 0 ? 1 : d;
  }
  let perm: Int32Array | undefined;
  if (opts.actOrder) {
    const idx = Array.from({ length: n }, (_, j) => j);
    // Descending diagonal; ties (absent in practice) by lower original index.
    idx.sort((a, b) => diag[b]! - diag[a]! || a - b);
    perm = Int32Array.from(idx);
  }
  let mean = 0;
  for (let j = 0; j < n; j++) mean += diag[j]!;
  mean /= n;
  const damp = percDamp * mean;
  // A = J·(H_p + damp·I)·J: reversed processing order, so its lower Cholesky factor yields U directly.
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const pi = perm ? perm[n - 1 - i]! : n - 1 - i;
    const src = pi * n;
    const dst = i * n;
    for (let j = 0; j <= i; j++) {
      const pj = perm ? perm[n - 1 - j]! : n - 1 - j;
      A[dst + j] = pi === pj ? diag[pi]! + damp : h[src + pj]!;
    }
  }
  choleskyInPlace(A, n, what);
  const U = new Float64Array(n * n);
  invertLowerReversed(A, n, U);
  return perm ? { cols, U, dead, perm, percDamp } : { cols, U, dead, percDamp };
}

/** Rows per panel: each row of L streamed from memory serves this many rows at once. */
const PANEL = 4;

/**
 * In-place lower Cholesky of the lower triangle of `a` (row-oriented: every
 * entry is a dot product of two contiguous row prefixes), PANEL rows at a
 * time so each earlier row is read once per panel instead of once per row.
 */
function choleskyInPlace(a: Float64Array, n: number, what: string): void {
  for (let i0 = 0; i0 < n; i0 += PANEL) {
    const i1 = Math.min(i0 + PANEL, n);
    const full = i1 - i0 === PANEL;
    for (let j = 0; j < i1; j++) {
      const rj = j * n;
      if (full && j < i0) {
        // All four panel rows need column j: share the loads of row j.
        const r0 = i0 * n;
        const r1 = r0 + n;
        const r2 = r1 + n;
        const r3 = r2 + n;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < j; k++) {
          const l = a[rj + k]!;
          s0 += a[r0 + k]! * l;
          s1 += a[r1 + k]! * l;
          s2 += a[r2 + k]! * l;
          s3 += a[r3 + k]! * l;
        }
        const d = a[rj + j]!;
        a[r0 + j] = (a[r0 + j]! - s0) / d;
        a[r1 + j] = (a[r1 + j]! - s1) / d;
        a[r2 + j] = (a[r2 + j]! - s2) / d;
        a[r3 + j] = (a[r3 + j]! - s3) / d;
        continue;
      }
      for (let i = Math.max(i0, j); i < i1; i++) {
        const ri = i * n;
        let s = 0;
        for (let k = 0; k < j; k++) s += a[ri + k]! * a[rj + k]!;
        s = a[ri + j]! - s;
        if (i === j) {
          if (!(s > 0) || !Number.isFinite(s)) {
            throw new SparqError('E_NOT_POSITIVE_DEFINITE', `${what}: dampened Hessian is not positive definite (pivot ${n - 1 - i} of ${n} is ${s})`, {
              details: { expected: '> 0', found: s },
              hint: 'increase percDamp, or collect more calibration samples',
            });
          }
          a[ri + i] = Math.sqrt(s);
        } else {
          a[ri + j] = s / a[rj + j]!;
        }
      }
    }
  }
}

/**
 * Writes `U = J·L⁻¹·J` (upper) for the lower-triangular `L`. Row i of `M = L⁻¹` solves `r·L = e_i`, found
 * right to left with contiguous axpys over rows of L (PANEL rows of M share each row of L); it lands reversed in
 * row `n−1−i` of U.
 */
function invertLowerReversed(L: Float64Array, n: number, U: Float64Array): void {
  const acc = new Float64Array(PANEL * n);
  const v = new Float64Array(PANEL);
  for (let i0 = 0; i0 < n; i0 += PANEL) {
    const p = Math.min(PANEL, n - i0);
    const top = i0 + p - 1;
    acc.fill(0);
    for (let t = 0; t < p; t++) acc[t * n + i0 + t] = 1;
    for (let k = top; k >= 0; k--) {
      const rk = k * n;
      const dk = L[rk + k]!;
      let any = false;
      for (let t = 0; t < p; t++) {
        // Row i0+t of M has no entries right of its diagonal.
        const x = k <= i0 + t ? acc[t * n + k]! / dk : 0;
        v[t] = x;
        if (x !== 0) {
          any = true;
          U[(n - 1 - (i0 + t)) * n + (n - 1 - k)] = x;
        }
      }
      if (!any) continue;
      if (p === PANEL) {
        const v0 = v[0]!;
        const v1 = v[1]!;
        const v2 = v[2]!;
        const v3 = v[3]!;
        const a1 = n;
        const a2 = 2 * n;
        const a3 = 3 * n;
        for (let j = 0; j < k; j++) {
          const l = L[rk + j]!;
          acc[j] -= v0 * l;
          acc[a1 + j] -= v1 * l;
          acc[a2 + j] -= v2 * l;
          acc[a3 + j] -= v3 * l;
        }
      } else {
        for (let t = 0; t < p; t++) {
          const x = v[t]!;
          if (x === 0) continue;
          const o = t * n;
          for (let j = 0; j < k; j++) acc[o + j] -= x * L[rk + j]!;
        }
      }
    }
  }
}
