/**
 * Accuracy checks of the f16 tensor-core paths that the shared conformance
 * suite does not reach (its f32 tolerances are for exact kernels). Used by
 * `src/conformance.gpu.test.ts` under vitest and by `bench/gpu-conformance.ts`
 * on GPU machines without node_modules, so both check the same cases against
 * the same bound.
 */
import { randomNM, randomNMQuant, randomQuantized, randomSpqr } from '@sparq/conformance';
import { f16ToF32, f32ToF16, type PackedMatrix, type Rng } from '@sparq/tensor';

const f16 = (x: number): number => f16ToF32(f32ToF16(x));

/**
 * The worst ratio, over all outputs, of |y − ŷ| to the bound k·2⁻²¹·Σ|terms|,
 * where ŷ is the float64 product of the f16-rounded operands `a [m,k]` and
 * `W [n,k]`: accumulation error only (4× the f32 rounding bound, as tensor
 * cores may truncate when aligning addends). ≤ 1 passes; an indexing bug is
 * O(Σ|terms|), and even exact f32 instead of f16 operands exceeds the bound
 * for k ≲ 1000.
 */
export function f16ModelErrorRatio(y: Float32Array, a: Float32Array, W: Float32Array, m: number, n: number, k: number): number {
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let mag = 0;
      for (let p = 0; p < k; p++) {
        const t = f16(a[i * k + p]!) * f16(W[j * k + p]!);
        s += t;
        mag += Math.abs(t);
      }
      worst = Math.max(worst, Math.abs(y[i * n + j]! - s) / (k * 2 ** -21 * mag + 1e-30));
    }
  }
  return worst;
}

/** Dense f16 mma shapes `[m, k, n]`: GEMV, odd sizes, partial tiles. */
export const TENSOR_CORE_DENSE_SHAPES = [
  [1, 4096, 256],
  [7, 1000, 300],
  [64, 512, 129],
  [257, 256, 64],
] as const;

/** Packed weights covering every tensor-core path (Marlin INT4, 2:4 and 2:4+INT4 mma.sp, decode-to-f16 fallbacks). */
export function tensorCoreWeights(rng: Rng): [string, PackedMatrix][] {
  return [
    ['int4 g128 asym', randomQuantized(rng, 300, 4096, 4, 128, false)],
    ['int4 g32 sym', randomQuantized(rng, 64, 512, 4, 32, true)],
    ['2:4+int4 g128', randomNMQuant(rng, 300, 4096, 2, 4, 4, 128, false)],
    ['2:4+int4 g64', randomNMQuant(rng, 33, 320, 2, 4, 4, 64, true)],
    ['decoded q3', randomQuantized(rng, 50, 384, 3, 64, false)],
    ['decoded 4:8 q8', randomNMQuant(rng, 40, 256, 4, 8, 8, 32, true)],
    ['2:4 f16 (tensorCores)', randomNM(rng, 100, 1024, 2, 4)],
    ['SpQR q3 (host decode)', randomSpqr(rng, 70, 256, 3, 16, 16)],
  ];
}
