import { describe, expect, it } from 'vitest';
import { createRng } from '@sparq/tensor';
import { subMulNT } from './gemm';

describe('subMulNT', () => {
  it('C −= A·Bᵀ on strided sub-blocks matches a float64 triple loop (all remainder shapes)', () => {
    const rng = createRng(3);
    for (const [m, n, k] of [[1, 1, 1], [4, 2, 3], [5, 3, 7], [7, 131, 9], [9, 260, 2], [3, 5, 0]] as const) {
      const lda = k + 3, ldb = k + 1, ldc = n + 2;
      const A = new Float64Array(2 + m * lda);
      const B = new Float64Array(1 + n * ldb);
      const C = new Float64Array(5 + m * ldc);
      rng.fillNormal(A);
      rng.fillNormal(B);
      rng.fillNormal(C);
      const want = Float64Array.from(C);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += A[2 + i * lda + t]! * B[1 + j * ldb + t]!;
        want[5 + i * ldc + j] -= s;
      }
      subMulNT(C, 5, ldc, A, 2, lda, B, 1, ldb, m, n, k);
      for (let i = 0; i < C.length; i++) expect(Math.abs(C[i]! - want[i]!)).toBeLessThan(1e-12);
    }
  });
});
