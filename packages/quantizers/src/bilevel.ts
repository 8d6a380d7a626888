/**
 * SpQR's grid and its second-level ("bilevel") quantization of the
 * first-level statistics (`docs/format.md` §6, `BilevelStat` in @sparq/tensor).
 * Unlike GPTQ's grid, SpQR's min/max range does not include 0 and its
 * zero-point is not rounded — it is quantized itself, so it may be non-integer.
 */
import { f16Scale, roundToF16 } from './grid';
import { roundHalfEven } from './round';

/** A first-level statistic quantized per §6, plus its decoded values. */
export interface BilevelStatValues {
  /** Bits of each code. */
  bits: number;
  /** Rows per second-level group. */
  groupRows: number;
  /** `rows × G` codes in `[0, 2^bits − 1]`. */
  codes: Uint8Array;
  /** `ceil(rows / groupRows) × G` second-level scales (f16-exact when `f16Stats`). */
  scale: Float64Array;
  /** `ceil(rows / groupRows) × G` second-level zero-points, possibly non-integer (f16-exact when `f16Stats`). */
  zero: Float64Array;
  /** `rows × G` decoded first-level values the solver used: `scale·(code − zero)` (`fround` of it when `f16Stats`). */
  values: Float64Array;
}

/** Allocates an empty {@link BilevelStatValues} for `rows × groups`. */
export function createBilevelStat(rows: number, groups: number, bits: number, groupRows: number): BilevelStatValues {
  const rg = Math.ceil(rows / groupRows);
  return {
    bits,
    groupRows,
    codes: new Uint8Array(rows * groups),
    scale: new Float64Array(rg * groups),
    zero: new Float64Array(rg * groups),
    values: new Float64Array(rows * groups),
  };
}

/**
 * SpQR's min/max grid of `x[off .. off+len)`: `scale = (max − min)/maxq`, `zero = −min/scale` (unrounded);
 * a constant segment gets the range [−1, 1]. Writes `out[0] = scale`, `out[1] = zero`.
 */
export function fitSpqrGrid(x: Float64Array, off: number, len: number, maxq: number, out: Float64Array): void {
  let mn = Infinity;
  let mx = -Infinity;
  for (let k = off; k < off + len; k++) {
    const v = x[k]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  if (mn === mx) {
    mn = -1;
    mx = 1;
  }
  const scale = (mx - mn) / maxq;
  out[0] = scale;
  out[1] = -mn / scale;
}

/** Guards the division of SpQR's quantizer against a (decoded) scale of 0, as the reference's `clamp_min(1e-9)`. */
const SCALE_EPS = 1e-9;

/** SpQR code of `x`: `clamp(round(x / scale + zero), 0, maxq)` — the zero-point is added before rounding. */
export function spqrCode(x: number, scale: number, zero: number, maxq: number): number {
  const q = roundHalfEven(x / (scale > SCALE_EPS ? scale : SCALE_EPS) + zero);
  return q < 0 ? 0 : q > maxq ? maxq : q;
}

/**
 * Quantizes column `g` of a first-level statistic (`stat[r]`, one per row) per §6: groups of `groupRows`
 * consecutive rows, each asymmetric min/max with `bits` bits and an unrounded zero. A constant group is stored
 * exactly (scale 1, zero −value, code 0) instead of the reference's [−1, 1] range, which would decode it badly.
 * With `f16`, the second-level scale and zero are rounded to f16 before use and values decode as
 * `fround(scale·(code − zero))`, exactly as the format's decoder.
 */
export function quantizeStatColumn(stat: Float64Array, rows: number, g: number, out: BilevelStatValues, f16: boolean): void {
  const groups = out.codes.length / rows;
  const maxq = 2 ** out.bits - 1;
  const gr = out.groupRows;
  for (let h = 0, r0 = 0; r0 < rows; h++, r0 += gr) {
    const r1 = Math.min(rows, r0 + gr);
    let mn = Infinity;
    let mx = -Infinity;
    for (let r = r0; r < r1; r++) {
      const v = stat[r]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    let scale: number;
    let zero: number;
    if (mn === mx) {
      scale = 1;
      zero = -mn;
    } else {
      scale = (mx - mn) / maxq;
      zero = -mn / scale;
    }
    if (f16) {
      scale = f16Scale(scale);
      zero = roundToF16(zero);
    }
    out.scale[h * groups + g] = scale;
    out.zero[h * groups + g] = zero;
    for (let r = r0; r < r1; r++) {
      const q = spqrCode(stat[r]!, scale, zero, maxq);
      out.codes[r * groups + g] = q;
      const v = scale * (q - zero);
      out.values[r * groups + g] = f16 ? Math.fround(v) : v;
    }
  }
}
