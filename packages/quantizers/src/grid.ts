/**
 * The min/max quantization grid of GPTQ's reference `Quantizer` (one grid per
 * output row and column group) and the scalar quantize / dequantize steps all
 * solvers share. See `../shared/reference/layer/README.md` ("Quantizer").
 */
import { f16ToF32, f32ToF16 } from '@sparq/tensor';
import { roundHalfEven } from './round';
import type { ClipSearchOptions } from './types';

/** Smallest positive f16 (subnormal): a scale must never round to 0. */
const F16_MIN_POSITIVE = 5.960464477539063e-8;
const F16_MAX = 65504;

/** Rounds to the nearest f16 value (ties to even), widened back to a number. */
export function roundToF16(x: number): number {
  return f16ToF32(f32ToF16(x));
}

/** A scale as the packed format stores it: f16, kept strictly positive and finite. */
export function f16Scale(scale: number): number {
  const s = roundToF16(Math.min(scale, F16_MAX));
  return s > 0 ? s : F16_MIN_POSITIVE;
}

/** Resolved grid settings shared by every group of one solve. */
export interface GridConfig {
  /** `2^bits − 1`. */
  maxq: number;
  sym: boolean;
  /** Round scales to f16 before use (and decode with `fround`). */
  f16: boolean;
  /** Clip search, or undefined for plain min/max. */
  clip: Required<ClipSearchOptions> | undefined;
}

/** Builds a {@link GridConfig}. */
export function gridConfig(bits: number, sym: boolean, f16: boolean, clip?: boolean | ClipSearchOptions): GridConfig {
  const c = clip === true ? {} : clip || undefined;
  return {
    maxq: 2 ** bits - 1,
    sym,
    f16,
    clip: c ? { grid: c.grid ?? 100, maxShrink: c.maxShrink ?? 0.8, norm: c.norm ?? 2.4 } : undefined,
  };
}

/** Integer code of `x`: `clamp(round(x / scale) + zero, 0, maxq)` with IEEE division and half-to-even rounding. */
export function quantCode(x: number, scale: number, zero: number, maxq: number): number {
  const q = roundHalfEven(x / scale) + zero;
  return q < 0 ? 0 : q > maxq ? maxq : q;
}

/** Dequantized value of a code: `scale·(q − zero)`, rounded to f32 when the format decodes in f32. */
export function dequant(q: number, scale: number, zero: number, f16: boolean): number {
  const v = scale * (q - zero);
  return f16 ? Math.fround(v) : v;
}

function scaleZero(xmin: number, xmax: number, cfg: GridConfig, out: Float64Array): void {
  let scale = (xmax - xmin) / cfg.maxq;
  if (cfg.f16) scale = f16Scale(scale);
  let zero: number;
  if (cfg.sym) zero = (cfg.maxq + 1) / 2;
  else {
    zero = roundHalfEven(-xmin / scale);
    // Only reachable with an f16-rounded scale: keep the zero-point a valid code.
    if (zero < 0) zero = 0;
    else if (zero > cfg.maxq) zero = cfg.maxq;
  }
  out[0] = scale;
  out[1] = zero;
}

/**
 * Fits the grid of `src[off .. off+len)` and writes `scale`, `zero` to `out[0]`, `out[1]`.
 * Min/max rule: the range always contains 0; symmetric ranges are mirrored; an all-zero segment gets [−1, 1].
 * With clip search, shrunk ranges `p·[xmin, xmax]` (p = 1 − i/grid) are tried and the one with the smallest
 * `Σ|x̂ − x|^norm` kept (first minimum wins, as in the reference).
 */
export function fitGrid(src: Float64Array, off: number, len: number, cfg: GridConfig, out: Float64Array): void {
  let xmin = 0;
  let xmax = 0;
  for (let k = off, end = off + len; k < end; k++) {
    const v = src[k]!;
    if (v < xmin) xmin = v;
    if (v > xmax) xmax = v;
  }
  if (cfg.sym) {
    xmax = Math.max(Math.abs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin === 0 && xmax === 0) {
    xmin = -1;
    xmax = 1;
  }
  scaleZero(xmin, xmax, cfg, out);
  const clip = cfg.clip;
  if (!clip) return;
  const steps = Math.floor(clip.maxShrink * clip.grid);
  const { maxq, f16 } = cfg;
  const norm = clip.norm;
  let best = Infinity;
  let bestScale = out[0]!;
  let bestZero = out[1]!;
  for (let i = 0; i < steps; i++) {
    const p = 1 - i / clip.grid;
    scaleZero(p * xmin, p * xmax, cfg, out);
    const scale = out[0]!;
    const zero = out[1]!;
    let err = 0;
    for (let k = off, end = off + len; k < end; k++) {
      const x = src[k]!;
      const e = Math.abs(dequant(quantCode(x, scale, zero, maxq), scale, zero, f16) - x);
      err += norm === 2 ? e * e : e ** norm;
    }
    if (err < best) {
      best = err;
      bestScale = scale;
      bestZero = zero;
    }
  }
  out[0] = bestScale;
  out[1] = bestZero;
}
