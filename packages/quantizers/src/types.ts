/**
 * Shared shapes of the quantization solvers: the weight matrix they read,
 * the quantization spec they follow and the result they return.
 */
import type { WeightMatrix } from '@sparq/format';

/** Re-exported from @sparq/format, shared with the sibling solver package. */
export type { WeightMatrix };

/** What to quantize to (the packed layout of `docs/format.md` §2). */
export interface QuantSpec {
  /** Bits per code, 2..8. */
  bits: number;
  /** Columns per group (a divisor of `cols`); −1 = per-channel (one group per row). */
  groupSize: number;
  /** Symmetric grid: zero-point fixed at `2^(bits−1)`. */
  sym: boolean;
  /**
   * Round each stored statistic (scale; SpQR second-level stats; outlier values) to f16 before using it, so what the
   * solver compensates is exactly what the packed format (f16 scales) decodes. Default false (fixtures are pure f64).
   * With it, dequantized values follow the §2 decoder: `fround(f32(scale)·(q − zero))`.
   */
  f16Stats?: boolean;
}

/** Output of {@link rtnQuantize} and {@link gptqQuantize}. */
export interface QuantResult {
  /** Dequantized `Ŵ`, `rows × cols`, original column order. */
  weight: Float64Array;
  /** `rows × cols` integer codes in `[0, 2^bits − 1]`, original column order. */
  codes: Uint8Array;
  /** `rows × G` scales, `G` = 1 (per-channel) or `cols / groupSize`; group g = original columns `[g·gs, (g+1)·gs)`. */
  scales: Float64Array;
  /** `rows × G` integer zero-points. */
  zeros: Float64Array;
  /** Act-order only: processing position → original column. */
  perm?: Int32Array;
}

/** RTN / GPTQ clip search over shrunk ranges (GPTQ's `Quantizer(mse=True)`). */
export interface ClipSearchOptions {
  /** Grid points per unit of shrink (default 100). */
  grid?: number;
  /** Largest shrink tried: factors `1 − i/grid` for `i < maxShrink·grid` (default 0.8). */
  maxShrink?: number;
  /** Error norm `Σ|x̂ − x|^norm` minimised (default 2.4, as the GPTQ reference). */
  norm?: number;
}
