/**
 * Float64 dense linear algebra for the second-order solvers (GPTQ, SparseGPT):
 * Cholesky factorisation with optional dampening, inverse via Cholesky, and
 * triangular solves. Matrices are row-major `Float64Array`s of size n·n.
 */
import { SparqError } from './errors';

/** Options of {@link cholesky}. */
export interface CholeskyOptions {
  /** Added to every diagonal entry before factorising (absolute). Default 0. */
  damp?: number;
  /**
   * Added to every diagonal entry as a fraction of the mean diagonal, as GPTQ's
   * `percdamp` (e.g. 0.01). Applied in addition to `damp`. Default 0.
   */
  relativeDamp?: number;
  /** Name used in error messages (e.g. the layer). */
  what?: string;
}

function checkSquare(a: Float64Array, n: number, fn: string): void {
  if (a.length !== n * n) {
    throw new SparqError('E_SHAPE_MISMATCH', `${fn}: expected ${n}×${n} = ${n * n} entries, found ${a.length}`, {
      details: { expected: n * n, found: a.length },
    });
  }
}

/**
 * Lower Cholesky factor `L` (`A = L Lᵀ`) of a symmetric positive definite
 * matrix. Only the lower triangle of `a` is read; `a` is not modified.
 * Throws `E_NOT_POSITIVE_DEFINITE` naming the failing pivot.
 */
export function cholesky(a: Float64Array, n: number, opts: CholeskyOptions = {}): Float64Array {
  checkSquare(a, n, 'cholesky');
  let shift = opts.damp ?? 0;
  if (opts.relativeDamp) {
    let tr = 0;
    for (let i = 0; i < n; i++) tr += a[i * n + i]!;
    shift += (opts.relativeDamp * tr) / n;
  }
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]! + shift;
    const Lj = j * n;
    for (let k = 0; k < j; k++) d -= L[Lj + k]! * L[Lj + k]!;
    if (!(d > 0) || !Number.isFinite(d)) {
      throw new SparqError(
        'E_NOT_POSITIVE_DEFINITE',
        `${opts.what ?? 'matrix'} is not positive definite: Cholesky pivot ${j} of ${n} is ${d}`,
        {
          details: { expected: '> 0', found: d },
          hint: 'increase dampening (e.g. a larger relative damp), or use more calibration samples',
        },
      );
    }
    const djj = Math.sqrt(d);
    L[Lj + j] = djj;
    for (let i = j + 1; i < n; i++) {
      const Li = i * n;
      let s = a[Li + j]!;
      for (let k = 0; k < j; k++) s -= L[Li + k]! * L[Lj + k]!;
      L[Li + j] = s / djj;
    }
  }
  return L;
}

/** Solves `L x = b` for lower-triangular `L` (forward substitution). `b` may be n or n×m (m columns). */
export function solveLower(L: Float64Array, n: number, b: Float64Array, m = 1): Float64Array {
  const x = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * m + c]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * x[k * m + c]!;
      x[i * m + c] = s / L[i * n + i]!;
    }
  }
  return x;
}

/** Solves `Lᵀ x = b` for lower-triangular `L` (back substitution on the transpose). */
export function solveLowerTransposed(L: Float64Array, n: number, b: Float64Array, m = 1): Float64Array {
  const x = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * m + c]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k * m + c]!;
      x[i * m + c] = s / L[i * n + i]!;
    }
  }
  return x;
}

/** Solves `U x = b` for upper-triangular `U` (back substitution). */
export function solveUpper(U: Float64Array, n: number, b: Float64Array, m = 1): Float64Array {
  const x = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * m + c]!;
      for (let k = i + 1; k < n; k++) s -= U[i * n + k]! * x[k * m + c]!;
      x[i * m + c] = s / U[i * n + i]!;
    }
  }
  return x;
}

/**
 * Inverse of a symmetric positive definite matrix through its Cholesky factor:
 * `A⁻¹ = L⁻ᵀ L⁻¹`. Returns a full symmetric matrix.
 */
export function choleskyInverse(a: Float64Array, n: number, opts: CholeskyOptions = {}): Float64Array {
  const L = cholesky(a, n, opts);
  // Linv = L⁻¹ (lower triangular), column by column.
  const Linv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    Linv[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * n + k]! * Linv[k * n + j]!;
      Linv[i * n + j] = s / L[i * n + i]!;
    }
  }
  // A⁻¹[i][j] = Σ_k Linv[k][i]·Linv[k][j] over k ≥ max(i, j).
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += Linv[k * n + i]! * Linv[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/**
 * Upper Cholesky factor `U` of `A⁻¹` (`Uᵀ U = A⁻¹`) — the matrix GPTQ and
 * SparseGPT read their update rows and pivots from (`torch.linalg.cholesky(H⁻¹, upper=True)`).
 */
export function choleskyUpperOfInverse(a: Float64Array, n: number, opts: CholeskyOptions = {}): Float64Array {
  const inv = choleskyInverse(a, n, opts);
  const L = cholesky(inv, n, { what: `inverse of ${opts.what ?? 'matrix'}` });
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) U[i * n + j] = L[j * n + i]!;
  return U;
}
