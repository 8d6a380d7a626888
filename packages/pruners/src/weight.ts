/**
 * The weight matrix and result types shared by every pruner, and the input
 * checks they all run first.
 */
import type { WeightMatrix } from '@sparq/format';
import { SparqError } from '@sparq/tensor';

/** Re-exported from @sparq/format, shared with the sibling solver package. */
export type { WeightMatrix };

/** What a pruner returns. */
export interface PruneResult {
  /** Pruned weight, `rows × cols` row-major (SparseGPT: pruned + OBS-updated, and quantized in joint mode). */
  weight: Float64Array;
  /** `rows × cols`, 1 = pruned. In joint mode quantization can add zeros at kept positions; those stay 0 here. */
  mask: Uint8Array;
}

/** Throws `E_SHAPE_MISMATCH` / `E_ARG` unless `w` is a well-formed, finite matrix. */
export function checkWeight(w: WeightMatrix, what: string): void {
  const { rows, cols, data } = w;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: weight shape must be positive integers, found ${rows}×${cols}`, {
      details: { expected: 'rows > 0, cols > 0', found: [rows, cols] },
    });
  }
  if (data.length !== rows * cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: weight ${rows}×${cols} needs ${rows * cols} values, found ${data.length}`, {
      details: { expected: rows * cols, found: data.length },
    });
  }
  checkFinite(data, cols, `${what}: weight`);
}

/** Throws `E_ARG` naming the first non-finite entry (as row, column of a `·×cols` matrix). */
export function checkFinite(a: Float64Array, cols: number, what: string): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) {
      throw new SparqError('E_ARG', `${what} has a non-finite value ${v} at row ${Math.floor(i / cols)}, column ${i % cols}`, {
        details: { expected: 'finite values', found: v },
        hint: 'check the checkpoint and the calibration data for NaN/Inf',
      });
    }
  }
}
