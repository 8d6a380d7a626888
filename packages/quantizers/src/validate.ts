/** Input checks shared by the solvers: every failure is a {@link SparqError} naming what was expected. */
import { SparqError } from '@sparq/tensor';
import type { QuantSpec, WeightMatrix } from './types';

/** Checks the weight's shape and values. */
export function checkWeight(w: WeightMatrix, what: string): void {
  const { rows, cols, data } = w;
  if (!(Number.isInteger(rows) && rows > 0 && Number.isInteger(cols) && cols > 0)) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: rows and cols must be positive integers, found ${rows}×${cols}`, {
      details: { expected: 'positive integers', found: [rows, cols] },
    });
  }
  if (data.length !== rows * cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: weight data has ${data.length} values, expected ${rows}×${cols} = ${rows * cols}`, {
      details: { expected: rows * cols, found: data.length },
    });
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new SparqError('E_ARG', `${what}: weight[${Math.floor(i / cols)}, ${i % cols}] is ${data[i]}; weights must be finite`, {
        details: { expected: 'finite values', found: data[i] },
        hint: 'check the checkpoint for overflowed (Inf/NaN) weights',
      });
    }
  }
}

/** Checks bits and group size against the weight; returns the effective group size (cols for per-channel). */
export function checkSpec(spec: Pick<QuantSpec, 'bits' | 'groupSize'>, cols: number, what: string, minBits = 2): number {
  const { bits, groupSize } = spec;
  if (!(Number.isInteger(bits) && bits >= minBits && bits <= 8)) {
    throw new SparqError('E_ARG', `${what}: bits must be an integer in [${minBits}, 8], found ${bits}`, {
      details: { expected: `${minBits}..8`, found: bits },
    });
  }
  if (groupSize === -1) return cols;
  if (!(Number.isInteger(groupSize) && groupSize > 0 && cols % groupSize === 0)) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: groupSize ${groupSize} does not divide the ${cols} input columns`, {
      details: { expected: `a divisor of ${cols}, or -1 (per-channel)`, found: groupSize },
      hint: 'the packed format has no implicit padding (docs/format.md §2); pick a group size that divides the columns',
    });
  }
  return groupSize;
}

/** Checks that the Hessian is `cols × cols` with finite entries. */
export function checkHessian(h: Float64Array, cols: number, what: string): void {
  if (h.length !== cols * cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: Hessian has ${h.length} values, expected ${cols}×${cols} = ${cols * cols}`, {
      details: { expected: cols * cols, found: h.length },
    });
  }
  for (let i = 0; i < cols; i++) {
    const d = h[i * cols + i]!;
    if (!(Number.isFinite(d) && d >= 0)) {
      throw new SparqError('E_ARG', `${what}: Hessian diagonal H[${i}, ${i}] is ${d}; expected a finite value ≥ 0`, {
        details: { expected: '≥ 0', found: d },
        hint: 'H = 2·XᵀX/n is positive semi-definite; recompute the calibration statistics',
      });
    }
  }
}

/** Checks a positive integer option. */
export function checkPositiveInt(v: number, name: string, what: string): void {
  if (!(Number.isInteger(v) && v > 0)) {
    throw new SparqError('E_ARG', `${what}: ${name} must be a positive integer, found ${v}`, { details: { expected: '> 0', found: v } });
  }
}
