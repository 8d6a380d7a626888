/**
 * SpQR weights (docs/format.md §2 base codes, §6 bilevel statistics, §5
 * outliers) decoded on the host into the dense f16 fragment layout, once per
 * weight; the CUDA backend then runs them on dense_f16_mma.cu. A second,
 * independent implementation of the decode (not the reference decoder of
 * @sparq/tensor, which the tests compare it with): per §6 each first-level
 * statistic is `fround(scale₂ · (code − zero₂))` with the f16 second-level
 * scale/zero of its (row-group, group), per §2 each weight is
 * `fround(scale · (q − zero))` (float64 products), and §5 outliers overwrite.
 * The f32 result is rounded once to f16 (the tensor-core operand precision).
 */
import { f16ToF32, f32ToF16, SparqError, type BilevelStat, type SpqrMatrix } from '@sparq/tensor';
import { fragmentOffset, roundUp } from './fragments';

/** Reads element `i` (of `bits` bits, LSB-first, §1) of the row starting at byte `base`. */
function field(bytes: Uint8Array, base: number, i: number, bits: number): number {
  const bit = i * bits;
  const byte = base + (bit >> 3);
  const shift = bit & 7;
  let word = bytes[byte]!;
  if (shift + bits > 8) word |= bytes[byte + 1]! << 8;
  return (word >> shift) & ((1 << bits) - 1);
}

/** First-level statistic values `[rows, groups]` of a §6 bilevel statistic. */
function firstLevel(stat: BilevelStat, rows: number, groups: number): Float32Array {
  const out = new Float32Array(rows * groups);
  const rowBytes = Math.ceil((groups * stat.bits) / 8);
  for (let r = 0; r < rows; r++) {
    const rg = Math.floor(r / stat.groupRows);
    for (let t = 0; t < groups; t++) {
      const code = field(stat.codes, r * rowBytes, t, stat.bits);
      out[r * groups + t] = Math.fround(f16ToF32(stat.scale[rg * groups + t]!) * (code - f16ToF32(stat.zero[rg * groups + t]!)));
    }
  }
  return out;
}

/** The decoded SpQR weight and its padded shape. */
export interface SpqrF16 {
  readonly nPad: number;
  readonly kPad: number;
  /** `[nPad, kPad]` f16 bit patterns in the fragment layout. */
  readonly fragments: Uint16Array;
}

/** Decodes a SpQR weight into f16 fragments (rows padded to 16, columns to 32). */
export function spqrToF16Fragments(w: SpqrMatrix): SpqrF16 {
  const { rows, cols, bits, groupSize } = w;
  const groups = cols / groupSize;
  const nPad = roundUp(Math.max(rows, 1), 16);
  const kPad = roundUp(Math.max(cols, 1), 32);
  const scale = firstLevel(w.scales, rows, groups);
  const zero = firstLevel(w.zeros, rows, groups);
  const out = new Uint16Array(nPad * kPad);
  const rowBytes = Math.ceil((cols * bits) / 8);
  const { rowPtr, cols: ocols, values } = w.outliers;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const t = r * groups + Math.floor(c / groupSize);
      const q = field(w.codes, r * rowBytes, c, bits);
      out[fragmentOffset(r, c, kPad)] = f32ToF16(Math.fround(scale[t]! * (q - zero[t]!)));
    }
    for (let p = rowPtr[r]!; p < rowPtr[r + 1]!; p++) {
      const c = ocols[p]!;
      if (c >= cols) throw new SparqError('E_ARG', `SpQR outlier ${p} of row ${r}: column ${c} ≥ ${cols}`);
      out[fragmentOffset(r, c, kPad)] = values[p]!; // already f16: copied bit for bit
    }
  }
  return { nPad, kPad, fragments: out };
}
