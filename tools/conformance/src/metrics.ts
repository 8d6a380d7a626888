/** Error metrics and named tolerances of the conformance suite. */

/**
 * Max normalised MSE, `Σ(out − ref)² / Σ ref²`, for f32 results. A correct f32
 * kernel lands near 1e-14 (f32 rounding ~6e-8 per op, squared) whatever its
 * summation order; one wrong element of a 257×257 output already exceeds 1e-6.
 * 1e-10 leaves headroom for long sums (k = 257) while catching any real bug.
 * (ggml's test-backend-ops uses 5e-4 for f16-heavy paths; f32 can be much tighter.)
 */
export const F32_MAX_NMSE = 1e-10;

/**
 * Max absolute error per element for N(0, 1) inputs, relative to √k: a sum of k
 * products of magnitude ~1 has size ~√k and accumulates ≤ k·2⁻²⁴·|terms| of
 * rounding; 1e-4·√k is ~100× the typical f32 error yet far below any indexing bug.
 */
export const F32_MAX_ABS_PER_SQRT_K = 1e-4;

/** Error statistics of one output against the reference. */
export interface ErrorStats {
  nmse: number;
  maxAbs: number;
}

/** Normalised MSE and max-abs error of `out` against `ref`. NaN anywhere gives `Infinity`. */
export function compareF32(out: ArrayLike<number>, ref: ArrayLike<number>): ErrorStats {
  if (out.length !== ref.length) return { nmse: Infinity, maxAbs: Infinity };
  let err = 0;
  let norm = 0;
  let maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i]! - ref[i]!;
    if (!Number.isFinite(d)) return { nmse: Infinity, maxAbs: Infinity };
    err += d * d;
    norm += ref[i]! * ref[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { nmse: norm > 0 ? err / norm : err, maxAbs };
}
