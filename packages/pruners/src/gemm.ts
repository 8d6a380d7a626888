/**
 * The one dense kernel of the solvers: `C −= A·Bᵀ` on row-major sub-blocks,
 * in dot-product form so that every inner loop walks contiguous memory.
 * Plain float64 JavaScript (pruners import no backend): 4×2 register tiles
 * (6 loads per 8 multiply-adds) and column panels that keep B in L2.
 */

/**
 * Signature of the `C −= A·Bᵀ` kernel ({@link subMulNT}). The solvers accept
 * another implementation (e.g. WebAssembly SIMD or multi-threaded, injected by
 * the caller, since pruners import no backend); it must compute the same
 * product for arbitrary offsets/strides and may sum in any order.
 */
export type SubMulNT = (
  C: Float64Array,
  c0: number,
  ldc: number,
  A: Float64Array,
  a0: number,
  lda: number,
  B: Float64Array,
  b0: number,
  ldb: number,
  m: number,
  n: number,
  k: number,
) => void;

/** Columns of C (rows of B) per panel: `NC × k` doubles of B stay cache-resident across all rows of A. */
const NC = 128;

/**
 * `C[i][j] −= Σ_{t<k} A[i][t]·B[j][t]` for `i < m`, `j < n`.
 * Each matrix is given as (array, offset of element [0][0], row stride).
 */
export function subMulNT(
  C: Float64Array,
  c0: number,
  ldc: number,
  A: Float64Array,
  a0: number,
  lda: number,
  B: Float64Array,
  b0: number,
  ldb: number,
  m: number,
  n: number,
  k: number,
): void {
  if (m <= 0 || n <= 0 || k <= 0) return;
  for (let jp = 0; jp < n; jp += NC) {
    const je = Math.min(jp + NC, n);
    let i = 0;
    for (; i + 3 < m; i += 4) {
      const ai0 = a0 + i * lda;
      const ai1 = ai0 + lda;
      const ai2 = ai1 + lda;
      const ai3 = ai2 + lda;
      const ci0 = c0 + i * ldc;
      const ci1 = ci0 + ldc;
      const ci2 = ci1 + ldc;
      const ci3 = ci2 + ldc;
      let j = jp;
      for (; j + 1 < je; j += 2) {
        const bj0 = b0 + j * ldb;
        const bj1 = bj0 + ldb;
        let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
        for (let t = 0; t < k; t++) {
          const x0 = B[bj0 + t]!;
          const x1 = B[bj1 + t]!;
          const y0 = A[ai0 + t]!;
          const y1 = A[ai1 + t]!;
          const y2 = A[ai2 + t]!;
          const y3 = A[ai3 + t]!;
          s00 += y0 * x0;
          s01 += y0 * x1;
          s10 += y1 * x0;
          s11 += y1 * x1;
          s20 += y2 * x0;
          s21 += y2 * x1;
          s30 += y3 * x0;
          s31 += y3 * x1;
        }
        C[ci0 + j] -= s00;
        C[ci0 + j + 1] -= s01;
        C[ci1 + j] -= s10;
        C[ci1 + j + 1] -= s11;
        C[ci2 + j] -= s20;
        C[ci2 + j + 1] -= s21;
        C[ci3 + j] -= s30;
        C[ci3 + j + 1] -= s31;
      }
      if (j < je) {
        const bj = b0 + j * ldb;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let t = 0; t < k; t++) {
          const x = B[bj + t]!;
          s0 += A[ai0 + t]! * x;
          s1 += A[ai1 + t]! * x;
          s2 += A[ai2 + t]! * x;
          s3 += A[ai3 + t]! * x;
        }
        C[ci0 + j] -= s0;
        C[ci1 + j] -= s1;
        C[ci2 + j] -= s2;
        C[ci3 + j] -= s3;
      }
    }
    for (; i < m; i++) {
      const ai = a0 + i * lda;
      const ci = c0 + i * ldc;
      for (let j = jp; j < je; j++) {
        const bj = b0 + j * ldb;
        let s = 0;
        for (let t = 0; t < k; t++) s += A[ai + t]! * B[bj + t]!;
        C[ci + j] -= s;
      }
    }
  }
}
