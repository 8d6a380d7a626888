/**
 * A compressed linear → its packed encoding in the sparq format (docs/format.md
 * §2–§6, plus the unstructured bitmask), and the exact storage accounting of
 * that encoding.
 */
import {
  accountDense,
  accountPacked,
  compressNM,
  encodeBitmask,
  encodeNMQuant,
  encodeQuantized,
  type BitmaskMatrix,
  type WeightAccounting,
} from '@sparq/format';
import { parsePattern } from '@sparq/pruners';
import type { PackedMatrix } from '@sparq/tensor';
import type { CompressedLinear } from './compressed-linear';
import { spqrMatrixOf } from './spqr-parts';

/** The pruners' mask is 1 = pruned; the format's is 1 = kept. */
function keepMask(mask: Uint8Array): Uint8Array {
  const keep = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) keep[i] = mask[i] ? 0 : 1;
  return keep;
}

/**
 * The packed form of `c`, or undefined when it stays a dense tensor:
 * SpQR → `spqr`; N:M + quantized → `nm-quant`; quantized (unstructured
 * pruning included: pruned weights are zero-point codes) → `quant`;
 * N:M → `nm`; unstructured pruning → `bitmask`.
 */
export function packLinear(c: CompressedLinear): PackedMatrix | BitmaskMatrix | undefined {
  const { rows, cols, name } = c;
  const what = `${name}.weight`;
  if (c.spqr) return spqrMatrixOf(c);
  const p = c.pattern !== undefined ? parsePattern(c.pattern) : undefined;
  const nm = p?.kind === 'nm' ? p : undefined;
  if (c.quant) {
    const q = c.quant;
    const stats = { bits: q.bits, groupSize: q.groupSize, sym: q.sym, scales: q.scales, ...(q.sym ? {} : { zeros: q.zeros }) };
    if (nm && c.mask) return encodeNMQuant({ rows, cols, n: nm.n, m: nm.m, mask: keepMask(c.mask), codes: q.codes, ...stats }, what);
    return encodeQuantized({ rows, cols, codes: q.codes, ...stats }, what);
  }
  if (c.mask && nm) return compressNM(c.weight, rows, cols, nm.n, nm.m, keepMask(c.mask), what);
  if (c.mask) return encodeBitmask(c.weight, rows, cols, keepMask(c.mask), what);
  return undefined;
}

/** Exact stored bits of `c` as the container writes it (float values in `c.valueDtype`). */
export function accountLinear(c: CompressedLinear): WeightAccounting {
  const packed = packLinear(c);
  const name = `${c.name}.weight`;
  return packed ? accountPacked(packed, { name, valueDtype: c.valueDtype }) : accountDense(name, [c.rows, c.cols], c.valueDtype);
}
