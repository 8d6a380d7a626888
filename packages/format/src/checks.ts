/**
 * Shared argument checks of the encoders and decoders, so every codec reports
 * a bad shape or parameter with the same code and the same details layout.
 */
import { SparqError, type PackedBits } from '@sparq/tensor';

/** Throws `E_SHAPE_MISMATCH` naming `what` unless `length === expected`. */
export function expectLength(what: string, length: number, expected: number, unit = 'elements'): void {
  if (length !== expected) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: expected ${expected} ${unit}, found ${length}`, {
      details: { tensor: what, expected, found: length },
    });
  }
}

/** Throws `E_SHAPE_MISMATCH` unless rows and cols are non-negative safe integers. */
export function expectDims(what: string, rows: number, cols: number): void {
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: invalid shape [${rows}, ${cols}]`, {
      details: { tensor: what, found: [rows, cols] },
    });
  }
}

/** Throws `E_ARG` unless `bits` is a supported quantized code width (2, 3, 4 or 8, §1). */
export function expectQuantBits(what: string, bits: number): asserts bits is PackedBits {
  if (bits !== 2 && bits !== 3 && bits !== 4 && bits !== 8) {
    throw new SparqError('E_ARG', `${what}: unsupported code width ${bits} bits`, {
      details: { tensor: what, expected: [2, 3, 4, 8], found: bits },
    });
  }
}

/** Throws `E_SHAPE_MISMATCH` unless `groupSize` is a positive divisor of `cols` (§2: no implicit padding). */
export function expectGroupSize(what: string, cols: number, groupSize: number): void {
  if (!Number.isSafeInteger(groupSize) || groupSize < 1 || cols % groupSize !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: group size ${groupSize} does not divide ${cols} columns`, {
      details: { tensor: what, expected: `a divisor of ${cols}`, found: groupSize },
      hint: 'choose a group size that divides the input dimension (or the full dimension for per-channel)',
    });
  }
}
