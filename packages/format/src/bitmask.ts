/**
 * Unstructured sparsity as a bitmask: one bit per weight (rows packed per §1
 * with b = 1, LSB-first) plus the nonzero values in row-major order. The
 * baseline encoding for magnitude / unstructured SparseGPT pruning; costs
 * `1 + density · valueBits` bits per weight.
 */
import { SparqError } from '@sparq/tensor';
import { expectDims, expectLength } from './checks';
import { packBits, packedRowBytes, unpackBits } from './pack-bits';

/** An unstructured-sparse `[rows, cols]` weight. */
export interface BitmaskMatrix {
  readonly kind: 'bitmask';
  readonly rows: number;
  readonly cols: number;
  /** `[rows, ceil(cols/8)]` bytes: bit `c` of row `r` set ⇔ `W[r, c]` is stored. */
  readonly mask: Uint8Array;
  /** The stored values in row-major order (`popcount(mask)` of them). */
  readonly values: Float32Array;
}

/**
 * Encodes a dense `[rows, cols]` matrix: stored = nonzero (or, with `keep`,
 * the positions where `keep` is nonzero; entries outside it must be 0).
 */
export function encodeBitmask(dense: ArrayLike<number>, rows: number, cols: number, keep?: ArrayLike<number>, what = 'weight'): BitmaskMatrix {
  expectDims(what, rows, cols);
  expectLength(what, dense.length, rows * cols);
  if (keep) expectLength(`${what} mask`, keep.length, rows * cols);
  const bits = new Uint8Array(rows * cols);
  let nnz = 0;
  for (let i = 0; i < bits.length; i++) {
    const k = keep ? keep[i] !== 0 : dense[i] !== 0;
    if (!k && dense[i] !== 0) {
      throw new SparqError('E_ARG', `${what}: row ${Math.floor(i / cols)}, column ${i % cols} is ${dense[i]} but pruned by the mask`, {
        details: { tensor: what, expected: 0, found: dense[i] },
        hint: 'apply the mask to the weight before encoding it',
      });
    }
    bits[i] = k ? 1 : 0;
    nnz += bits[i]!;
  }
  const values = new Float32Array(nnz);
  let o = 0;
  for (let i = 0; i < bits.length; i++) if (bits[i]) values[o++] = dense[i]!;
  return { kind: 'bitmask', rows, cols, mask: packBits(bits, rows, cols, 1, `${what}.mask`), values };
}

/** Decodes a {@link BitmaskMatrix} to dense row-major f32; throws `E_SHAPE_MISMATCH` when the value count disagrees with the mask. */
export function decodeBitmask(x: BitmaskMatrix, out = new Float32Array(x.rows * x.cols), what = 'weight'): Float32Array {
  expectDims(what, x.rows, x.cols);
  expectLength(`${what}.mask`, x.mask.length, x.rows * packedRowBytes(x.cols, 1), 'bytes');
  expectLength(`${what} output`, out.length, x.rows * x.cols);
  const bits = unpackBits(x.mask, x.rows, x.cols, 1, `${what}.mask`);
  let nnz = 0;
  for (let i = 0; i < bits.length; i++) nnz += bits[i]!;
  expectLength(`${what}.values`, x.values.length, nnz, 'values (one per set mask bit)');
  let o = 0;
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] ? x.values[o++]! : 0;
  return out;
}
