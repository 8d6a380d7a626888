/**
 * Host-side packing of group-quantized 4-bit weights (§2) for int4_mma.cu:
 * codes in the INT4 fragment layout (`fragments.ts`), rows padded to 16 and
 * columns to 32 (the activation padding shared by all mma kernels).
 */
import { packedRowBytes, SparqError, unpackBits, type QuantizedMatrix } from '@sparq/tensor';
import { packInt4Fragments, roundUp } from './fragments';

/** Kernel inputs of a 4-bit §2 weight (statistics: `groupStatsF16`). */
export interface Int4Packed {
  readonly rows: number;
  readonly cols: number;
  readonly nPad: number;
  readonly kPad: number;
  /** `nPad·kPad/8` u32: one per lane per 16×16 tile. */
  readonly codes: Uint32Array;
}

/** Packs a 4-bit {@link QuantizedMatrix}. */
export function packInt4(w: QuantizedMatrix): Int4Packed {
  if (w.bits !== 4) throw new SparqError('E_KERNEL_UNSUPPORTED', `INT4 kernel: bits must be 4, found ${w.bits}`);
  const nPad = roundUp(Math.max(w.rows, 1), 16);
  const kPad = roundUp(Math.max(w.cols, 1), 32);
  const codes = new Uint8Array(nPad * kPad);
  const rb = packedRowBytes(w.cols, 4);
  for (let r = 0; r < w.rows; r++) codes.set(unpackBits(w.codes, r * rb, w.cols, 4), r * kPad);
  return { rows: w.rows, cols: w.cols, nPad, kPad, codes: packInt4Fragments(codes, nPad, kPad, nPad, kPad) };
}
