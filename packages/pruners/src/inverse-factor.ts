/**
 * The OBS machinery shared by SparseGPT (and usable by GPTQ-style solvers):
 * dead-column fix, dampening, and the upper Cholesky factor of the inverse
 * Hessian, computed in cache-blocked tiles on one GEMM kernel (`n³/3`
 * multiply-adds, no explicit inverse).
 */
import { SparqError } from '@sparq/tensor';
import { subMulNT, type SubMulNT } from './gemm';

/** A Hessian ready for the OBS loop. */
export interface PreparedHessian {
  /** `H + damp·I` after the dead-column fix (a copy; the input is untouched). */
  h: Float64Array;
  /** 1 where `diag(H) == 0` in the input (the input channel never fired). */
  dead: Uint8Array;
  /** The absolute dampening added to the diagonal. */
  damp: number;
}

/**
 * Dead-column fix then dampening, in the reference order: `dead = diag(H) == 0`,
 * `H_jj = 1` for dead j, then `damp = percDamp · mean(diag(H))` (dead diagonals
 * count as 1) and `H += damp·I`.
 */
export function prepareHessian(hessian: Float64Array, n: number, percDamp: number): PreparedHessian {
  const h = Float64Array.from(hessian);
  const dead = new Uint8Array(n);
  let tr = 0;
  for (let j = 0; j < n; j++) {
    const jj = j * n + j;
    if (h[jj] === 0) {
      dead[j] = 1;
      h[jj] = 1;
    }
    tr += h[jj]!;
  }
  const damp = (percDamp * tr) / n;
  for (let j = 0; j < n; j++) h[j * n + j] += damp;
  return { h, dead, damp };
}

/** Tile size of the blocked factorisations: two NB×KC tiles stay in L2 while the GEMM kernel runs. */
const NB = 128;
/** Depth of one GEMM call (k-chunk). */
const KC = 256;

/** Σ_{t<len} a[ao+t]·b[bo+t], 4 accumulators. */
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 3 < len; t += 4) {
    s0 += a[ao + t]! * b[bo + t]!;
    s1 += a[ao + t + 1]! * b[bo + t + 1]!;
    s2 += a[ao + t + 2]! * b[bo + t + 2]!;
    s3 += a[ao + t + 3]! * b[bo + t + 3]!;
  }
  for (; t < len; t++) s0 += a[ao + t]! * b[bo + t]!;
  return s0 + s1 + (s2 + s3);
}

/**
 * In place: replaces the lower triangle of the row-major SPD matrix `a` by its
 * Cholesky factor `L` (`a = L Lᵀ`); the strict upper triangle is scratch
 * afterwards (only the lower triangle is read). Left-looking by NB×NB tiles:
 * `A_IJ −= L_{I,<J} L_{J,<J}ᵀ` through {@link subMulNT}, then the small
 * triangular finish of the tile. Throws `E_NOT_POSITIVE_DEFINITE` naming the pivot
 * (`reversed`: `a` is `J A J` and the pivot is reported as a column of A).
 */
export function choleskyInPlace(a: Float64Array, n: number, what = 'matrix', gemm: SubMulNT = subMulNT, reversed = false): void {
  for (let i0 = 0; i0 < n; i0 += NB) {
    const i1 = Math.min(i0 + NB, n);
    for (let j0 = 0; j0 <= i0; j0 += NB) {
      const j1 = Math.min(j0 + NB, n);
      for (let k0 = 0; k0 < j0; k0 += KC) {
        gemm(a, i0 * n + j0, n, a, i0 * n + k0, n, a, j0 * n + k0, n, i1 - i0, j1 - j0, Math.min(KC, j0 - k0));
      }
      const diag = j0 === i0;
      for (let j = j0; j < j1; j++) {
        const jo = j * n;
        for (let i = diag ? j : i0; i < i1; i++) {
          const io = i * n;
          const s = a[io + j]! - dot(a, io + j0, a, jo + j0, j - j0);
          if (i === j) {
            if (!(s > 0) || !Number.isFinite(s)) {
              const at = reversed ? `at column ${n - 1 - j} (factorising from the last column)` : `${j}`;
            throw new SparqError('E_NOT_POSITIVE_DEFINITE', `${what} is not positive definite: Cholesky pivot ${at} of ${n} is ${s}`, {
                details: { expected: '> 0', found: s },
                hint: 'increase dampening (percDamp), or use more / more varied calibration samples',
              });
            }
            a[io + j] = Math.sqrt(s);
          } else {
            a[io + j] = s / a[jo + j]!;
          }
        }
      }
    }
  }
}

/**
 * In place: given the Cholesky factor `M` in the lower triangle of `a`, writes
 * `Y = (M⁻¹)ᵀ` (upper triangular) into the upper triangle including the
 * diagonal; M's diagonal is saved first, its strict lower triangle is left as is.
 * Row j of Y: `Y_ji = (δ_ji − Σ_{j≤k<i} Y_jk M_ik) / M_ii`, i ascending — every
 * sum a dot product of two contiguous rows; tiled like {@link choleskyInPlace}.
 */
function transposedInverseInPlace(a: Float64Array, n: number, gemm: SubMulNT): void {
  const md = new Float64Array(n);
  for (let i = 0; i < n; i++) md[i] = a[i * n + i]!;
  for (let i = 0; i < n; i++) a.fill(0, i * n + i, (i + 1) * n); // Y starts at 0 (upper incl. diagonal)
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(j0 + NB, n);
    for (let i0 = j0; i0 < n; i0 += NB) {
      const i1 = Math.min(i0 + NB, n);
      if (i0 > j0) {
        // k inside block J: Y_jk is only defined for k ≥ j (the strict lower part holds M).
        for (let j = j0; j < j1; j++) {
          const jo = j * n;
          for (let i = i0; i < i1; i++) a[jo + i] -= dot(a, jo + j, a, i * n + j, j1 - j);
        }
        for (let k0 = j1; k0 < i0; k0 += KC) {
          gemm(a, j0 * n + i0, n, a, j0 * n + k0, n, a, i0 * n + k0, n, j1 - j0, i1 - i0, Math.min(KC, i0 - k0));
        }
      }
      for (let i = i0; i < i1; i++) {
        const io = i * n;
        const inv = 1 / md[i]!;
        for (let j = j0; j < Math.min(j1, i + 1); j++) {
          const jo = j * n;
          const k0 = Math.max(i0, j);
          const s = (i === j ? 1 : 0) + a[jo + i]! - dot(a, jo + k0, a, io + k0, i - k0);
          a[jo + i] = s * inv;
        }
      }
    }
  }
}

/** Options of {@link inverseUpperFactorTransposed}. */
export interface InverseFactorOptions {
  /** Name for error messages. */
  what?: string;
  /** Overwrite `a` (saves one n×n copy; the result is then `a` itself). */
  inPlace?: boolean;
  /** The `C −= A·Bᵀ` kernel for the tiles (default: the plain-JS {@link subMulNT}). */
  gemm?: SubMulNT;
}

/**
 * `Uᵀ` (lower triangular, row-major), where `U` is the upper Cholesky factor
 * of `a⁻¹` (`Uᵀ U = a⁻¹`, positive diagonal) for a symmetric positive definite
 * `a`. Row `j` of `Uᵀ` is column `j` of U, so the SparseGPT lazy update
 * `W −= Err·U_panel` becomes dot products of contiguous rows.
 *
 * Computed without forming `a⁻¹`: with the exchange matrix `J`, factor
 * `J a J = M Mᵀ` (M lower); then `a = R Rᵀ` with `R = J M J` upper and
 * `a⁻¹ = R⁻ᵀ R⁻¹`, so `U = R⁻¹ = J M⁻¹ J` and `Uᵀ = J (M⁻¹)ᵀ J`. Only the upper
 * triangle of the symmetric `a` is read. For row-major
 * storage `J·J` reverses the flat array. Cost `n³/3` multiply-adds (Cholesky +
 * triangular inverse), against `n³/2` for inverse-then-refactor; one n×n buffer.
 */
export function inverseUpperFactorTransposed(a: Float64Array, n: number, opts: InverseFactorOptions = {}): Float64Array {
  const what = opts.what ?? 'Hessian';
  if (a.length !== n * n) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: expected ${n}×${n} = ${n * n} entries, found ${a.length}`, {
      details: { expected: n * n, found: a.length },
    });
  }
  // J a J; its lower triangle is a's upper triangle (a is symmetric, so either may be read).
  const m = (opts.inPlace ? a : Float64Array.from(a)).reverse();
  const gemm = opts.gemm ?? subMulNT;
  choleskyInPlace(m, n, what, gemm, true);
  transposedInverseInPlace(m, n, gemm);
  for (let i = 0; i < n; i++) m.fill(0, i * n, i * n + i); // drop M, keep Y = (M⁻¹)ᵀ
  return m.reverse();
}

/**
 * Upper Cholesky factor `U` of `a⁻¹` (`Uᵀ U = a⁻¹`, positive diagonal) — what
 * SparseGPT/GPTQ read their pivots `U_jj` and update rows `U[j, j:]` from
 * (`cholesky(inverse(H), upper=True)` in the reference code). See
 * {@link inverseUpperFactorTransposed}, of which this is the transpose.
 */
export function inverseUpperFactor(a: Float64Array, n: number, what = 'Hessian'): Float64Array {
  const t = inverseUpperFactorTransposed(a, n, { what });
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) U[j * n + i] = t[i * n + j]!;
  return U;
}
