/**
 * Per-(row, group) statistics of a §2/§4 quantized weight as the INT4 kernels
 * read them: f16 scales `[nPad, groups]` (copied bit for bit) and f16
 * zero-points `[nPad, groups]` holding the integer zero-point (the §2 code,
 * or `2^(bits−1)` when symmetric). Padding rows get scale 0, zero 0.
 */
import { f32ToF16, packedRowBytes, unpackBits } from '@sparq/tensor';

/** Statistics of one weight in kernel layout. */
export interface GroupStatsF16 {
  /** `[nPad, groups]` f16 bit patterns. */
  readonly scales: Uint16Array;
  /** `[nPad, groups]` f16 bit patterns of integer zero-points (exact in f16: ≤ 255). */
  readonly zeros: Uint16Array;
  readonly groups: number;
}

/** Builds {@link GroupStatsF16} from the §2 fields of a weight. */
export function groupStatsF16(
  rows: number,
  nPad: number,
  groups: number,
  bits: number,
  scales: Uint16Array,
  zeros: Uint8Array | undefined,
  sym: boolean,
): GroupStatsF16 {
  const s = new Uint16Array(nPad * groups);
  const z = new Uint16Array(nPad * groups);
  s.set(scales.subarray(0, rows * groups));
  const zb = packedRowBytes(groups, bits);
  const symZero = f32ToF16(2 ** (bits - 1));
  for (let r = 0; r < rows; r++) {
    const zr = sym ? undefined : unpackBits(zeros!, r * zb, groups, bits);
    for (let t = 0; t < groups; t++) z[r * groups + t] = zr ? f32ToF16(zr[t]!) : symZero;
  }
  return { scales: s, zeros: z, groups };
}
