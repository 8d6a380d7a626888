/**
 * SpQR solver output → the packed `SpqrMatrix` of docs/format.md §2/§5/§6
 * (f16 statistics and outlier values, packed codes), and its decoding: the
 * weight the compressed model runs with.
 */
import { decodeSpqr, encodeSpqr, packBits } from '@sparq/format';
import type { SpqrResult } from '@sparq/quantizers';
import { f32ToF16, SparqError, type BilevelStat, type PackedBits, type SpqrMatrix } from '@sparq/tensor';
import type { CompressedLinear } from './compressed-linear';

type SpqrStored = Omit<SpqrResult, 'weight'>;

function bilevel(s: SpqrStored['scales'], rows: number, groups: number, what: string): BilevelStat {
  const f16 = (a: Float64Array) => Uint16Array.from(a, (v) => f32ToF16(v));
  return {
    bits: s.bits as PackedBits,
    groupRows: s.groupRows,
    codes: packBits(s.codes, rows, groups, s.bits as PackedBits, what),
    scale: f16(s.scale),
    zero: f16(s.zero),
  };
}

/** The packed SpQR matrix of a linear compressed with SpQR (solver run with `f16Stats`, so the f16 narrowing is exact). */
export function spqrMatrixOf(c: CompressedLinear): SpqrMatrix {
  if (!c.spqr) throw new SparqError('E_INTERNAL', `linear ${c.name} has no SpQR parts`);
  const s = c.spqr as unknown as SpqrStored;
  const groups = s.cols / s.groupSize;
  return encodeSpqr(
    {
      rows: s.rows,
      cols: s.cols,
      bits: s.bits as PackedBits,
      groupSize: s.groupSize,
      codes: s.codes,
      scales: bilevel(s.scales, s.rows, groups, `${c.name}.scales`),
      zeros: bilevel(s.zeros, s.rows, groups, `${c.name}.zeros`),
      outliers: { rowPtr: s.outliers.rowPtr, cols: s.outliers.cols, values: Uint16Array.from(s.outliers.values, (v) => f32ToF16(v)) },
    },
    c.name,
  );
}

/** Decodes a SpQR-compressed linear exactly as a reader of the packed format does. */
export function decodeSpqrLinear(c: CompressedLinear): Float32Array {
  return decodeSpqr(spqrMatrixOf(c), undefined, c.name);
}
