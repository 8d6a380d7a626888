/**
 * N:M + quantized values (docs/format.md §4): the kept values of an N:M
 * matrix are group-quantized over the compressed row, with the group size
 * counted in original columns. Decoding dequantizes per §2, then scatters
 * per §3.
 */
import { SparqError, type NMQuantMatrix, type PackedBits } from '@sparq/tensor';
import { expectDims, expectGroupSize, expectLength, expectQuantBits } from './checks';
import { checkNMPattern, nmIndexBits, scatterNM, selectNMSlots, unpackNMIndices, validateNM } from './nm';
import { packBits, packedRowBytes, unpackBits } from './pack-bits';
import { dequantizeGroups, packGroupStats } from './quant-codec';

/** Plain output of a joint prune + quantize pass, as {@link encodeNMQuant} takes it. */
export interface NMQuantParts {
  readonly rows: number;
  readonly cols: number;
  readonly n: number;
  readonly m: number;
  readonly bits: PackedBits;
  /** Group size in original columns: a multiple of `m` dividing `cols`. */
  readonly groupSize: number;
  readonly sym: boolean;
  /** `[rows, cols]` 0/1 mask of kept weights (≤ n per group of m). */
  readonly mask: ArrayLike<number>;
  /**
   * Codes, unpacked: either dense-layout `[rows, cols]` (codes at pruned
   * positions ignored) or compressed-layout `[rows, cols·n/m]` in slot order.
   */
  readonly codes: ArrayLike<number>;
  /** `[rows, cols/groupSize]` scales (narrowed to f16). */
  readonly scales: Float32Array | Float64Array;
  /** `[rows, cols/groupSize]` integer zero-points (asymmetric only). */
  readonly zeros?: ArrayLike<number>;
}

/** Throws unless `groupSize` is a multiple of `m` and divides `cols` (§4). */
function checkGroup(what: string, cols: number, m: number, groupSize: number): void {
  expectGroupSize(what, cols, groupSize);
  if (groupSize % m !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: N:M + quant group size ${groupSize} is not a multiple of M = ${m}`, {
      details: { tensor: what, expected: `a multiple of ${m}`, found: groupSize },
    });
  }
}

/**
 * Encodes an N:M-pruned, quantized weight as an {@link NMQuantMatrix} (§4).
 * Slots are chosen by the §3 rule from `mask`; a padding slot (group keeping
 * fewer than n) gets the zero-point code, so it decodes to exactly 0.
 * Throws `E_ARG` for a group keeping more than n or an out-of-range code,
 * `E_SHAPE_MISMATCH` for bad sizes.
 */
export function encodeNMQuant(p: NMQuantParts, what = 'weight'): NMQuantMatrix {
  const { rows, cols, n, m, bits, groupSize, sym } = p;
  expectDims(what, rows, cols);
  expectQuantBits(what, bits);
  checkNMPattern(what, cols, n, m);
  checkGroup(what, cols, m, groupSize);
  validateNM(p.mask, rows, cols, n, m, `${what} mask`);
  const kept = (cols / m) * n;
  const dense = p.codes.length === rows * cols;
  if (!dense) expectLength(`${what}.codes`, p.codes.length, rows * kept, `codes ([rows, cols] or [rows, cols·n/m] = ${rows * kept})`);
  const groups = cols / groupSize;
  const stats = packGroupStats(what, rows, groups, bits, sym, p.scales, p.zeros);
  const slots = selectNMSlots(p.mask, rows, cols, n, m);
  const zeroCodes = stats.zeros ? unpackBits(stats.zeros, rows, groups, bits) : undefined;
  const span = (groupSize / m) * n;
  const codes = new Uint8Array(rows * kept);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < kept; k++) {
      const col = Math.floor(k / n) * m + slots[r * kept + k]!;
      const padding = p.mask[r * cols + col] === 0;
      const z = zeroCodes ? zeroCodes[r * groups + Math.floor(k / span)]! : 1 << (bits - 1);
      codes[r * kept + k] = padding ? z : p.codes[dense ? r * cols + col : r * kept + k]!;
    }
  }
  return {
    kind: 'nm-quant', rows, cols, n, m, bits, groupSize, sym,
    codes: packBits(codes, rows, kept, bits, `${what}.codes`),
    scales: stats.scales,
    ...(stats.zeros ? { zeros: stats.zeros } : {}),
    indices: packBits(slots, rows, kept, nmIndexBits(m), `${what}.indices`),
  };
}

/** Checks an {@link NMQuantMatrix}'s arrays against its shape and parameters. */
export function validateNMQuant(x: NMQuantMatrix, what = 'weight'): void {
  expectDims(what, x.rows, x.cols);
  expectQuantBits(what, x.bits);
  checkNMPattern(what, x.cols, x.n, x.m);
  checkGroup(what, x.cols, x.m, x.groupSize);
  const kept = (x.cols / x.m) * x.n;
  const groups = x.cols / x.groupSize;
  expectLength(`${what}.codes`, x.codes.length, x.rows * packedRowBytes(kept, x.bits), 'bytes');
  expectLength(`${what}.indices`, x.indices.length, x.rows * packedRowBytes(kept, nmIndexBits(x.m)), 'bytes');
  expectLength(`${what}.scales`, x.scales.length, x.rows * groups);
  if (x.sym !== (x.zeros === undefined)) {
    throw new SparqError('E_ARG', `${what}: ${x.sym ? 'a symmetric matrix stores no zeros' : 'an asymmetric matrix needs zeros'}`, {
      details: { tensor: what },
    });
  }
  if (x.zeros) expectLength(`${what}.zeros`, x.zeros.length, x.rows * packedRowBytes(groups, x.bits), 'bytes');
}

/** Dequantizes only the kept values: `[rows, cols·n/m]` f32 (§4 first step). */
export function dequantizeNMQuantValues(x: NMQuantMatrix, what = 'weight'): Float32Array {
  validateNMQuant(x, what);
  const kept = (x.cols / x.m) * x.n;
  const codes = unpackBits(x.codes, x.rows, kept, x.bits, `${what}.codes`);
  return dequantizeGroups(codes, x.rows, kept, (x.groupSize / x.m) * x.n, x.bits, x.scales, x.zeros, new Float32Array(x.rows * kept));
}

/** Decodes an {@link NMQuantMatrix} to dense row-major f32 `[rows, cols]` (§4: dequantize, then scatter). */
export function decodeNMQuant(x: NMQuantMatrix, out = new Float32Array(x.rows * x.cols), what = 'weight'): Float32Array {
  const values = dequantizeNMQuantValues(x, what);
  expectLength(`${what} output`, out.length, x.rows * x.cols);
  const pos = unpackNMIndices(x.indices, x.rows, x.cols, x.n, x.m, what);
  return scatterNM(values, pos, x.rows, x.cols, x.n, x.m, out);
}
