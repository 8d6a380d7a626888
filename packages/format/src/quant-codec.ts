/**
 * Group quantization codec (docs/format.md §2): from the plain outputs of a
 * quantizer (one code per byte, float scales and zero-points) to the packed
 * {@link QuantizedMatrix}, and back to f32 by the reference dequantization
 * `w = fround(f32(scale) · (q − zero))`.
 */
import { SparqError, f16ArrayToF32, f32ToF16, type PackedBits, type QuantizedMatrix } from '@sparq/tensor';
import { expectDims, expectGroupSize, expectLength, expectQuantBits } from './checks';
import { packBits, packedRowBytes, unpackBits } from './pack-bits';

/** Plain quantizer output for one `[rows, cols]` weight, as {@link encodeQuantized} takes it. */
export interface QuantParts {
  readonly rows: number;
  readonly cols: number;
  readonly bits: PackedBits;
  /** Columns per group; a divisor of `cols`. */
  readonly groupSize: number;
  /** Symmetric: the zero-point is `2^(bits−1)` and no zeros are stored. */
  readonly sym: boolean;
  /** `[rows, cols]` codes, one per element (unpacked). */
  readonly codes: ArrayLike<number>;
  /** `[rows, cols/groupSize]` scales; narrowed to f16 (round to nearest even). */
  readonly scales: Float32Array | Float64Array;
  /**
   * `[rows, cols/groupSize]` integer zero-points in `[0, 2^bits − 1]`.
   * Required when asymmetric; when symmetric it may be given but must then be all `2^(bits−1)`.
   */
  readonly zeros?: ArrayLike<number>;
}

/** Group statistics in stored form: f16 scales and packed zero codes. */
export interface PackedGroupStats {
  scales: Uint16Array;
  zeros?: Uint8Array;
}

/**
 * Narrows `rows × groups` scales to f16 and packs the zero-points (§2). Shared
 * by the dense (§2) and N:M (§4) encoders. Throws `E_ARG` for a non-integer or
 * out-of-range zero, or a symmetric zero other than `2^(bits−1)`.
 */
export function packGroupStats(
  what: string,
  rows: number,
  groups: number,
  bits: PackedBits,
  sym: boolean,
  scales: Float32Array | Float64Array,
  zeros: ArrayLike<number> | undefined,
): PackedGroupStats {
  expectLength(`${what}.scales`, scales.length, rows * groups);
  const s16 = new Uint16Array(scales.length);
  for (let i = 0; i < scales.length; i++) s16[i] = f32ToF16(scales[i]!);
  if (sym) {
    if (zeros !== undefined) {
      expectLength(`${what}.zeros`, zeros.length, rows * groups);
      const z0 = 1 << (bits - 1);
      for (let i = 0; i < zeros.length; i++) {
        if (zeros[i] !== z0) {
          throw new SparqError('E_ARG', `${what}: symmetric quantization has zero-point ${z0}, found ${zeros[i]} at row ${Math.floor(i / groups)}, group ${i % groups}`, {
            details: { tensor: what, expected: z0, found: zeros[i] },
            hint: 'pass sym: false to store per-group zero-points',
          });
        }
      }
    }
    return { scales: s16 };
  }
  if (zeros === undefined) {
    throw new SparqError('E_ARG', `${what}: asymmetric quantization needs zero-points`, {
      details: { tensor: what, expected: `zeros [${rows}, ${groups}]`, found: 'none' },
    });
  }
  expectLength(`${what}.zeros`, zeros.length, rows * groups);
  return { scales: s16, zeros: packBits(zeros, rows, groups, bits, `${what}.zeros`) };
}

/**
 * Encodes plain quantizer output as a {@link QuantizedMatrix} (§2).
 * Throws `E_SHAPE_MISMATCH` when `groupSize` does not divide `cols` or an array
 * has the wrong length, `E_ARG` for a code or zero out of range.
 * @example
 * const m = encodeQuantized({ rows: 1, cols: 4, bits: 4, groupSize: 4, sym: true,
 *   codes: [8, 9, 7, 8], scales: Float32Array.of(0.5) });
 * decodeQuantized(m); // Float32Array [0, 0.5, -0.5, 0]
 */
export function encodeQuantized(p: QuantParts, what = 'weight'): QuantizedMatrix {
  const { rows, cols, bits, groupSize, sym } = p;
  expectDims(what, rows, cols);
  expectQuantBits(what, bits);
  expectGroupSize(what, cols, groupSize);
  expectLength(`${what}.codes`, p.codes.length, rows * cols);
  const groups = cols / groupSize;
  const stats = packGroupStats(what, rows, groups, bits, sym, p.scales, p.zeros);
  const codes = packBits(p.codes, rows, cols, bits, `${what}.codes`);
  return { kind: 'quant', rows, cols, bits, groupSize, sym, codes, scales: stats.scales, ...(stats.zeros ? { zeros: stats.zeros } : {}) };
}

/**
 * Checks that a {@link QuantizedMatrix}'s arrays agree with its shape and
 * parameters; throws `E_SHAPE_MISMATCH` / `E_ARG` naming `what` otherwise.
 */
export function validateQuantized(m: QuantizedMatrix, what = 'weight'): void {
  expectDims(what, m.rows, m.cols);
  expectQuantBits(what, m.bits);
  expectGroupSize(what, m.cols, m.groupSize);
  const groups = m.cols / m.groupSize;
  expectLength(`${what}.codes`, m.codes.length, m.rows * packedRowBytes(m.cols, m.bits), 'bytes');
  expectLength(`${what}.scales`, m.scales.length, m.rows * groups);
  if (m.sym) {
    if (m.zeros !== undefined) {
      throw new SparqError('E_ARG', `${what}: a symmetric matrix stores no zeros`, { details: { tensor: what, found: 'zeros' } });
    }
  } else {
    if (m.zeros === undefined) {
      throw new SparqError('E_ARG', `${what}: an asymmetric matrix needs zeros`, { details: { tensor: what, expected: 'zeros' } });
    }
    expectLength(`${what}.zeros`, m.zeros.length, m.rows * packedRowBytes(groups, m.bits), 'bytes');
  }
}

/**
 * Dequantizes `rows` rows of `len` unpacked codes whose groups span `span`
 * codes, per §2: `fround(f32(scale) · (q − zero))`. Shared with §4.
 */
export function dequantizeGroups(
  codes: Uint8Array,
  rows: number,
  len: number,
  span: number,
  bits: PackedBits,
  scales: Uint16Array,
  zeros: Uint8Array | undefined,
  out: Float32Array,
): Float32Array {
  const groups = len / span;
  const s32 = f16ArrayToF32(scales);
  const z = zeros === undefined ? undefined : unpackBits(zeros, rows, groups, bits, 'zeros');
  const zSym = 1 << (bits - 1);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const s = s32[r * groups + g]!;
      const zero = z === undefined ? zSym : z[r * groups + g]!;
      const base = r * len + g * span;
      for (let i = 0; i < span; i++) out[base + i] = s * (codes[base + i]! - zero);
    }
  }
  // Float32Array stores round once: s (exact f32) times a small integer, rounded to f32.
  return out;
}

/**
 * Decodes a {@link QuantizedMatrix} to row-major f32 `[rows, cols]` by the
 * reference dequantization of §2 (bit-exact).
 */
export function decodeQuantized(m: QuantizedMatrix, out = new Float32Array(m.rows * m.cols), what = 'weight'): Float32Array {
  validateQuantized(m, what);
  expectLength(`${what} output`, out.length, m.rows * m.cols);
  const codes = unpackBits(m.codes, m.rows, m.cols, m.bits, `${what}.codes`);
  return dequantizeGroups(codes, m.rows, m.cols, m.groupSize, m.bits, m.scales, m.zeros, out);
}
