/**
 * WGSL building blocks shared by the kernels: readers of LSB-first packed
 * codes (docs/format.md §1) and of f16 bit patterns, both over `array<u32>`
 * storage (WGSL has no byte or (without `shader-f16`) half arrays).
 */

/** Workgroup size of the reduction kernels (one weight row per workgroup). */
export const REDUCE_WG = 64;
/** Activation rows handled by one workgroup of the reduction kernels. */
export const ROWS_PER_WG = 8;

/**
 * `fn read_<buf>(rowByte, elem, nbits) -> u32`: the `elem`-th `nbits`-bit code
 * of the packed row starting at byte `rowByte` of `buf`. Byte arithmetic
 * (not bit offsets) so offsets stay below 2³² for any bindable buffer; a code
 * may straddle two words, so every buffer is padded with one extra word.
 */
export function codeReader(buf: string): string {
  return /* wgsl */ `
fn read_${buf}(rowByte: u32, elem: u32, nbits: u32) -> u32 {
  let bit = elem * nbits;
  let byte = rowByte + (bit >> 3u);
  let sh = ((byte & 3u) << 3u) + (bit & 7u);
  let w = byte >> 2u;
  var v = ${buf}[w] >> sh;
  if (sh + nbits > 32u) { v = v | (${buf}[w + 1u] << (32u - sh)); }
  return v & ((1u << nbits) - 1u);
}`;
}

/** Codes per segment of {@link segmentReader}: 8 codes of b bits are exactly b bytes, so segments start on bytes. */
export const SEGMENT = 8;

/**
 * `fn seg_<buf>(rowByte, seg, nbits) -> vec4<u32>`: the words holding codes
 * `8·seg … 8·seg + 7` of a packed row (they occupy bytes
 * `rowByte + seg·nbits …`, at most 3 words) plus, in `.w`, the bit offset of
 * the first code; {@link SEGMENT_CODE} extracts code e. One load per word
 * instead of one per code. Buffers carry two words of slack for the last segment.
 */
export function segmentReader(buf: string): string {
  return /* wgsl */ `
fn seg_${buf}(rowByte: u32, seg: u32, nbits: u32) -> vec4<u32> {
  let b = rowByte + seg * nbits;
  let w = b >> 2u;
  return vec4<u32>(${buf}[w], ${buf}[w + 1u], ${buf}[w + 2u], (b & 3u) << 3u);
}`;
}

/** `fn seg_code(s, e, nbits) -> u32`: code e (< 8) of a segment read by {@link segmentReader}. */
export const SEGMENT_CODE = /* wgsl */ `
fn seg_code(s: vec4<u32>, e: u32, nbits: u32) -> u32 {
  let bit = s.w + e * nbits;
  let wi = bit >> 5u;
  let sh = bit & 31u;
  var v = s[wi] >> sh;
  if (sh + nbits > 32u) { v = v | (s[wi + 1u] << (32u - sh)); }
  return v & ((1u << nbits) - 1u);
}`;

/** `fn f16_<buf>(idx) -> f32`: element `idx` of an f16 array stored two per u32 (exact widening). */
export function halfReader(buf: string): string {
  return /* wgsl */ `
fn f16_${buf}(idx: u32) -> f32 {
  let p = unpack2x16float(${buf}[idx >> 1u]);
  return select(p.x, p.y, (idx & 1u) == 1u);
}`;
}

/**
 * The uniform block of the matmul kernels (16 u32, one 64-byte block).
 * `m`, `k`: activation rows and inner size; `n`: weight rows in this chunk;
 * `j0`: the chunk's first output column; `ldo`: output row stride;
 * the rest are per-format row strides (bytes or elements, see each kernel).
 */
export const MATMUL_PARAMS = /* wgsl */ `
struct Params {
  m: u32, k: u32, n: u32, j0: u32,
  ldo: u32, gs: u32, G: u32, rb: u32,
  zb: u32, ib: u32, L: u32, spg: u32,
  pad0: u32, pad1: u32, pad2: u32, pad3: u32,
};
@group(0) @binding(0) var<uniform> P: Params;`;

/** Names of {@link MATMUL_PARAMS} fields in order, for building the uniform data. */
export const MATMUL_PARAM_FIELDS = ['m', 'k', 'n', 'j0', 'ldo', 'gs', 'G', 'rb', 'zb', 'ib', 'L', 'spg'] as const;
/** A value for each matmul uniform (missing ones are 0). */
export type MatmulParams = Partial<Record<(typeof MATMUL_PARAM_FIELDS)[number], number>>;

/** The 64-byte uniform block of {@link MATMUL_PARAMS}. */
export function matmulParamsData(p: MatmulParams): Uint32Array {
  const out = new Uint32Array(16);
  MATMUL_PARAM_FIELDS.forEach((f, i) => (out[i] = p[f] ?? 0));
  return out;
}
