/**
 * Integer helpers of the PE datapath: two's-complement wrap-around at the
 * accumulator width (what the hardware's adder does on overflow) and operand
 * validation for integer GEMMs.
 */
import { SparqError } from '@sparq/tensor';
import type { GemmWorkload } from './mapping';

/** `x` reduced to a signed `bits`-bit two's-complement value (exact for |x| < 2^53). */
export function wrapSigned(x: number, bits: number): number {
  if (bits === 32) return x | 0;
  const mod = 2 ** bits;
  const half = mod / 2;
  let r = (x + half) % mod;
  if (r < 0) r += mod;
  return r - half;
}

/** Integer operands of a GEMM on the array, in the packed N:M layout of docs/format.md §3. */
export interface IntGemmOperands {
  /** `[m, k]` signed activations (int8 range). */
  readonly a: Int8Array | Int16Array | Int32Array;
  /** `[n, k·keep/group]` kept signed weights (range of `weightBits`), one row per output feature. */
  readonly w: Int8Array | Int16Array | Int32Array;
  /** `[n, k·keep/group]` in-group positions (`0 … group−1`, increasing within a group); omitted when dense. */
  readonly idx?: Uint8Array;
}

/** Checks lengths and value ranges of integer operands, naming the operand on failure. */
export function validateIntOperands(workload: GemmWorkload, ops: IntGemmOperands): void {
  const { m, k, n } = workload.shape;
  const { keep, group } = workload.sparsity;
  const kc = (k / group) * keep;
  const wb = workload.weightBits;
  const check = (what: string, len: number, expected: number) => {
    if (len !== expected) {
      throw new SparqError('E_SHAPE_MISMATCH', `integer GEMM operand ${what}: expected ${expected} elements, found ${len}`, {
        details: { tensor: what, expected, found: len },
      });
    }
  };
  check('a', ops.a.length, m * k);
  check('w', ops.w.length, n * kc);
  for (let i = 0; i < ops.a.length; i++) {
    const v = ops.a[i]!;
    if (v < -128 || v > 127) throw new SparqError('E_DTYPE', `operand a[${i}] = ${v} is outside int8`, { details: { tensor: 'a', expected: '-128…127', found: v } });
  }
  const lo = -(2 ** (wb - 1));
  const hi = 2 ** (wb - 1) - 1;
  for (let i = 0; i < ops.w.length; i++) {
    const v = ops.w[i]!;
    if (v < lo || v > hi) {
      throw new SparqError('E_DTYPE', `operand w[${i}] = ${v} is outside int${wb}`, { details: { tensor: 'w', expected: `${lo}…${hi}`, found: v } });
    }
  }
  if (group > 1) {
    if (!ops.idx) throw new SparqError('E_SHAPE_MISMATCH', `pattern ${keep}:${group} needs the idx operand`, { details: { tensor: 'idx' } });
    check('idx', ops.idx.length, n * kc);
    for (let r = 0; r < n; r++) {
      for (let s = 0; s < kc; s++) {
        const v = ops.idx[r * kc + s]!;
        const prev = s % keep === 0 ? -1 : ops.idx[r * kc + s - 1]!;
        if (v >= group || v <= prev) {
          throw new SparqError('E_SHAPE_MISMATCH', `idx[${r}, ${s}] = ${v}: in-group positions must increase and be < ${group} (docs/format.md §3)`, {
            details: { tensor: 'idx', expected: `${prev + 1}…${group - 1}`, found: v },
          });
        }
      }
    }
  }
}
