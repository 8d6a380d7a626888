// Compressed matmul kernels: out [m, n] = a [m, k] · decode(W)ᵀ for the packed
// layouts of docs/format.md §2–§6 (W has n rows of k columns).
//
// The JS side uploads a weight once into a kernel-friendly form (codes and
// indices copied as packed, scales/zeros widened to f32 and interleaved as
// (scale, zero) pairs — D_SCALE / D_ZERO point at the first pair's two words
// and every kernel steps 8 bytes per group — outliers as u32/f32,
// plus re-packed copies for the fast GEMV paths) and describes each call in a
// descriptor block of u32 words (D_* below), so a job carries one pointer.
//
// Paths (chosen by JS, written to D_PATH):
// - GENERIC: decode rows exactly to f32 (bit-identical to the reference
//   decoder: SIMD for 4/8-bit with integer zero-points, the §2 expression in
//   f64 for SpQR's non-integer ones), then the dense f32 kernels. Any bits,
//   group size, N:M and SpQR. GEMV decodes one row at a time into a per-thread
//   scratch row; GEMM decodes RB rows and runs the dense register tiles.
// - Q4 / Q8 (GEMV): llama.cpp-style integer dot products. The activations are
//   quantized once per call to int8 (absmax per block of XB columns) and stored
//   as i16, permuted so that the codes can be used straight from the §1 byte
//   stream: in each i16 lane of a 16-byte code vector, nibble (or byte) j is
//   element cpl·L + j, and `(v >> 4j) & 0xf` puts those 8 codes in the 8 i16
//   lanes for i32x4.dot_i16x8_s. The zero-point is folded out of the inner loop:
//   Σ sw·sx·(q − z)·x = Σ sw·sx·q·x − sw·z·Σ sx·x, the last sum precomputed per group.
//   §2 weights with groups of 16 and SpQR bases of 2–4 bits (held as nibbles)
//   take Q4 too: groups of 32k as is, groups of 16 split each chunk's sums by
//   group (q4Segment16); the SpQR zero-point
//   need not be an integer there, and the outliers add Σ (v·x − base·x̂) per row
//   (outliers multiply the exact activations, as the matmulSpqr contract says).
// - NM24 (GEMV, 2:4 f32): rows in lanes — the values are uploaded in quads of
//   4 rows with a position byte per (row, group), so one swizzle of a
//   4-column group's f32 activations gathers a kept slot for 4 rows (gemvNM24).
//   The GEMM and the generic decoder read the same quad layout (keptRow).
// - NMQ4 (GEMV, 2:4 + 4-bit, groups of 32, 64, 128k): rows in lanes — octets of 8 rows
//   re-packed at upload so that one swizzle of a 4-column group's int8
//   activations gathers the kept activations of 8 rows × 2 slots (gemvNMQ4).
// - NMQ4C (GEMV, N:M + 4-bit with M dividing 16 but 2:4 — 1:4, 4:8, 2:8, 8:16 —
//   groups of 32, 64, 128k): the NMQ4 design on 16-column chunks: positions are
//   columns within the chunk, so one swizzle of its 16 int8 activations gathers
//   16 kept slots of 8 rows (`packNMQ4CStream`).
//   Both streams also hold 8-bit codes, as bytes (their baseline steps, run by both builds: nmqSegment, nmq4cStepBase).
// - NMG / SPNM (GEMV / GEMM, batch thresholds in src/kernels/matmul-packed.ts; N:M but 2:4 with M dividing 128, f32 or §4
//   values decoded to f32): each kept slot's column within its 128-column block
//   as a byte (`keptPos`); the GEMV gathers activations by it (load32_lane;
//   4:8 f32: two swizzles of a group's 8 activations per 4 kept slots,
//   nm48.ts), the GEMM runs the two-panel sparse tile on it (nm-gather.ts).
// - Relaxed SIMD (dense-relaxed.wasm, ASC_FEATURE_RELAXED_SIMD): Q4 uses
//   relaxed_dot_i8x16_i7x16 on in-place nibbles, NMQ4 pmaddubsw on gathered i8; only on
//   operands where the relaxed operations are exact.
// - SP24 (GEMM, 2:4 f32 or §4 values decoded to f32): a is transposed
//   into 16-row panels; each kept value multiplies its column's 64-byte panel
//   line in two panels at once — half the multiply-adds of the dense GEMM.
// GEMV kernels run 2–4 weight rows interleaved: on 128-bit SIMD they are
// instruction-bound, and several rows share activation loads and keep several
// weight streams in flight.
//
// Threads claim the output rows (rows of W) in chunks of quads from the job's
// counter (work.ts), as the dense kernels do. Every output is computed by the
// same code whatever the split, so results are bit-identical for any thread
// count.

import { dot1, gemmMadd, gemvRange, hsum, KC, stripStride, tile4x1, tile4x2p } from './dense-tiles';
import { C_01, C_02, C_0C, C_0F, C_J, C_M0, C_M1, C_M2, C_ONES16, D_CONST, dw } from './descriptor';
import { gatherDot, gatherDotX4, tileSpNM, tileSpNM2, tileSpNMHalf, tileSpNMPair } from './nm-gather';
import { nm48Dot, nm48DotX4 } from './nm48';
import { claim, claimRows } from './work';

// Descriptor words (u32 index into the descriptor).
const D_KIND: i32 = 0;
const D_M: i32 = 1;
const D_K: i32 = 2;
const D_N: i32 = 3;
const D_A: i32 = 4;
const D_OUT: i32 = 5;
const D_BITS: i32 = 6;
const D_GS: i32 = 7;
const D_NN: i32 = 8;
const D_MM: i32 = 9;
const D_CODES: i32 = 10;
const D_CODE_ROW: i32 = 11;
const D_SCALE: i32 = 12;
const D_ZERO: i32 = 13;
const D_IDX: i32 = 14;
const D_IDX_ROW: i32 = 15;
const D_IDX_BITS: i32 = 16;
const D_VALUES: i32 = 17;
const D_ORP: i32 = 18;
const D_OCOL: i32 = 19;
const D_OVAL: i32 = 20;
const D_SCRATCH: i32 = 21;
const D_SCRATCH_STRIDE: i32 = 22;
const D_PATH: i32 = 23;
const D_XQ: i32 = 24;
const D_XS: i32 = 25;
const D_XB: i32 = 26;
const D_XT: i32 = 27;
const D_RCODES: i32 = 29;
const D_RIDX: i32 = 30;
const D_PANEL: i32 = 31;
/** Columns per k-segment of the Q4 and NMQ4 GEMV layouts (see gemvQ4, gemvNMQ4), else 0. */
const D_SEG: i32 = 32;
/** Column byte of every kept slot (its column within its 128-column block), row-major `[n, L]`, for the any-N:M paths (NMG, SPNM), else 0. */
const D_KPOS: i32 = 33;
/** SpQR in the Q4 GEMV layout: per outlier, the base weight it replaces (f32), else 0. */
const D_OBASE: i32 = 28;
/** SpQR Q4 GEMV: the quantized activations as f32, x̂_c = sx_b · q_c (prepareActInt8), to take the base out at the outliers; else 0. */
const D_XH: i32 = 34;
/** Row descriptors of the call (first descriptor only): a GEMV path with m > 1 runs once per activation row, each with its own descriptor D_DSTRIDE bytes after the previous; 0 or 1 = this one. */
const D_ROWS: i32 = 35;
const D_DSTRIDE: i32 = 36;

/** Constant vector `c` (a C_* offset) of the descriptor at `d`. */
@inline function cv(d: usize, c: usize): v128 {
  return v128.load(d + D_CONST + c);
}

/** Quads per block of the Q4 GEMV layout (Q4_BLOCK_QUADS in src/runtime/packed-weights.ts). */
const Q4_QB: i32 = 16;

/**
 * Byte offset of the scale of group t of row r in the Q4 GEMV layout's
 * statistics (its zero-point is 16 bytes further): like the codes, blocks of
 * Q4_QB quads → k-segments of gps groups → quads of the block → groups, each
 * group's record holding the quad's 4 f32 scales then its 4 f32 zero-points,
 * so the GEMV reads them as one sequential stream and as vectors (one lane per
 * row of the quad).
 */
@inline function q4StatOffset(n: i32, G: i32, gps: i32, r: i32, t: i32): usize {
  const q = r >> 2;
  const b0 = q - q % Q4_QB; // first quad of the block
  const quadsBlk = min(Q4_QB, ((n + 3) >> 2) - b0);
  const t0 = t - t % gps;
  const gl = min(gps, G - t0);
  return ((<usize>b0 * <usize>G + <usize>t0 * <usize>quadsBlk + <usize>(q - b0) * <usize>gl + <usize>(t - t0)) << 5) + (<usize>(r & 3) << 2);
}

/**
 * Address of the 16-byte chunk holding elements e0 … e0+31 of row r in the Q4
 * GEMV layout (blocks of Q4_QB quads → k-segments of segCols columns → quads →
 * 64-byte chunks of 4 rows); e0 is a multiple of 32. Chunks of one segment
 * follow each other at a 64-byte stride.
 */
@inline function q4ChunkAddr(codes: usize, rowBytes: usize, n: i32, segCols: i32, r: i32, e0: i32): usize {
  const q = r >> 2;
  const b = q / Q4_QB;
  const qb = <usize>min(Q4_QB, ((n + 3) >> 2) - b * Q4_QB);
  const s = e0 / segCols;
  const s0 = <usize>(s * segCols) >> 1;
  const len = min(<usize>segCols >> 1, rowBytes - s0);
  return codes + <usize>(b * Q4_QB) * (rowBytes << 2) + s0 * (qb << 2) + <usize>(q - b * Q4_QB) * (len << 2) + (<usize>((e0 - s * segCols) >> 5) << 6) + (<usize>(r & 3) << 4);
}

const KIND_QUANT: u32 = 1;
const KIND_NM: u32 = 2;
const KIND_NMQ: u32 = 3;
const KIND_SPQR: u32 = 4;

const PATH_GENERIC: u32 = 0;
const PATH_Q4: u32 = 1;
const PATH_Q8: u32 = 2;
const PATH_NM24: u32 = 3;
const PATH_NMQ4: u32 = 4;
const PATH_SP24: u32 = 5;
const PATH_NMG: u32 = 6;
const PATH_SPNM: u32 = 7;
const PATH_NMQ4C: u32 = 8;

/** Rows of W decoded per GEMM block (RB·k·4 bytes of per-thread scratch). */
const RB: i32 = 16;

/** Code `i` of a §1 LSB-first stream (rows are padded so the u16 read stays in bounds). */
@inline function getBits(row: usize, i: i32, bits: i32, mask: u32): u32 {
  const bit = <usize>i * <usize>bits;
  return (<u32>load<u16>(row + (bit >> 3)) >> <u32>(bit & 7)) & mask;
}

/** §2 dequantization: the product in f64 (exact for f16 scales and integer zeros), rounded once. */
@inline function dequant(scale: f32, q: u32, zero: f32): f32 {
  return <f32>(<f64>scale * (<f64>q - <f64>zero));
}

/**
 * Dequantizes `count` codes starting at element `e0` of a §1 row into dst,
 * like the scalar loop, with SIMD for 4-bit and 8-bit codes (e0, count
 * multiples of 16) and an integer zero-point: q − z is exact in
 * f32, so one f32 multiply rounds the exact product once, as §2 requires; and
 * for 4-bit codes with a non-integer one (SpQR; multiples of 16) in f64.
 * `cstride` is the distance between 16-byte chunks of the row (16, or 64 in
 * the quad-interleaved 4-bit layout; there `row` is the chunk of element 0).
 * Row-major 4- and 8-bit spans off 16-code boundaries (a per-channel group of
 * k % 16 ≠ 0 columns, e.g. stories260K's 172) take the SIMD branches for their
 * aligned middle and decodeSpanScalar for the ends: the same values as code by
 * code (the whole span went code by code before: 4× slower GEMV there).
 */
function decodeSpan(row: usize, e0: i32, count: i32, bits: i32, mask: u32, sc: f32, z: f32, intZero: bool, dst: usize, cstride: usize = 16): void {
  if (cstride == 16 && (bits == 4 || bits == 8) && ((e0 | count) & 15) != 0) {
    const end = e0 + count;
    const a = min(end, (e0 + 15) & ~15);
    const b = max(a, end & ~15);
    decodeSpanScalar(row, e0, a - e0, bits, mask, sc, z, intZero, dst);
    if (b > a) decodeSpan(row, a, b - a, bits, mask, sc, z, intZero, dst + (<usize>(a - e0) << 2));
    decodeSpanScalar(row, b, end - b, bits, mask, sc, z, intZero, dst + (<usize>(b - e0) << 2));
    return;
  }
  if (intZero && bits == 4 && ((e0 | count) & 15) == 0) {
    // Whole 32-code chunks (16 bytes), and half a chunk at either end (a group of 16 in the Q4 layout).
    const vs = f32x4.splat(sc);
    const vz = f32x4.splat(z);
    const m4 = i8x16.splat(0x0f);
    const end = e0 + count;
    let e = e0;
    let o = dst;
    if ((e & 16) != 0) {
      storeNibbles16(row + <usize>(e >> 5) * cstride + 8, vs, vz, m4, o);
      e += 16;
      o += 64;
    }
    for (; e + 32 <= end; e += 32, o += 128) {
      const v = v128.load(row + <usize>(e >> 5) * cstride);
      const lo = v128.and(v, m4);
      const hi = v128.and(i16x8.shr_u(v, 4), m4);
      storeBytesAsF32(i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), vs, vz, o);
      storeBytesAsF32(i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), vs, vz, o + 64);
    }
    if (e < end) storeNibbles16(row + <usize>(e >> 5) * cstride, vs, vz, m4, o);
    return;
  }
  if (intZero && bits == 8 && ((e0 | count) & 15) == 0) {
    const vs = f32x4.splat(sc);
    const vz = f32x4.splat(z);
    let src = row + <usize>e0;
    let o = dst;
    for (let c: i32 = 0; c < count; c += 16, src += 16, o += 64) storeBytesAsF32(v128.load(src), vs, vz, o);
    return;
  }
  if (intZero) {
    decodeSpanScalar(row, e0, count, bits, mask, sc, z, true, dst);
    return;
  }
  if (bits == 4 && ((e0 | count) & 15) == 0) {
    // Non-integer zero-points (SpQR, codes held as nibbles): the §2 expression in f64, two codes per f64x2 —
    // the same IEEE operations as dequant(), rounded once to f32 by the demotion. 16 codes are 8 bytes of a
    // 32-code chunk (chunks `cstride` apart: the Q4 layout's groups of 16 take half a chunk).
    const vs = f64x2.splat(<f64>sc);
    const vz = f64x2.splat(<f64>z);
    const m4 = i8x16.splat(0x0f);
    let o = dst;
    for (let c: i32 = 0; c < count; c += 16, o += 64) {
      const e = e0 + c;
      const v = v128.load64_zero(row + <usize>(e >> 5) * cstride + (<usize>(e & 31) >> 1));
      const b = i8x16.shuffle(v128.and(v, m4), v128.and(i16x8.shr_u(v, 4), m4), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const lo = i16x8.extend_low_i8x16_u(b);
      const hi = i16x8.extend_high_i8x16_u(b);
      storeSpqr4(i32x4.extend_low_i16x8_u(lo), vs, vz, o);
      storeSpqr4(i32x4.extend_high_i16x8_u(lo), vs, vz, o + 16);
      storeSpqr4(i32x4.extend_low_i16x8_u(hi), vs, vz, o + 32);
      storeSpqr4(i32x4.extend_high_i16x8_u(hi), vs, vz, o + 48);
    }
    return;
  }
  decodeSpanScalar(row, e0, count, bits, mask, sc, z, false, dst);
}

/** decodeSpan code by code (row-major §1 codes). */
function decodeSpanScalar(row: usize, e0: i32, count: i32, bits: i32, mask: u32, sc: f32, z: f32, intZero: bool, dst: usize): void {
  if (intZero) {
    // f32 product of an f32 scale and a small exact integer: the exact product rounded once, as in f64.
    for (let c: i32 = 0; c < count; c++) store<f32>(dst + (<usize>c << 2), sc * (<f32>getBits(row, e0 + c, bits, mask) - z));
    return;
  }
  for (let c: i32 = 0; c < count; c++) store<f32>(dst + (<usize>c << 2), dequant(sc, getBits(row, e0 + c, bits, mask), z));
}

/** 4 codes q (i32x4) → 4 f32 (f32)((f64)s · ((f64)q − (f64)z)) at o, as dequant() computes them. */
@inline function storeSpqr4(q: v128, vs: v128, vz: v128, o: usize): void {
  const a = f32x4.demote_f64x2_zero(f64x2.mul(vs, f64x2.sub(f64x2.convert_low_i32x4_u(q), vz)));
  const b = f32x4.demote_f64x2_zero(f64x2.mul(vs, f64x2.sub(f64x2.convert_low_i32x4_u(i8x16.shuffle(q, q, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)), vz)));
  v128.store(o, i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
}

/** 16 codes from the 8 bytes at p (LSB nibble first) → 16 f32 (q − z)·s at o. */
@inline function storeNibbles16(p: usize, vs: v128, vz: v128, m4: v128, o: usize): void {
  const v = v128.load64_zero(p);
  storeBytesAsF32(i8x16.shuffle(v128.and(v, m4), v128.and(i16x8.shr_u(v, 4), m4), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), vs, vz, o);
}

/** 16 unsigned bytes q → 16 f32 (q − z)·s at o. */
@inline function storeBytesAsF32(b: v128, vs: v128, vz: v128, o: usize): void {
  const l = i16x8.extend_low_i8x16_u(b);
  const h = i16x8.extend_high_i8x16_u(b);
  v128.store(o, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(l)), vz), vs));
  v128.store(o, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(l)), vz), vs), 16);
  v128.store(o, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(h)), vz), vs), 32);
  v128.store(o, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(h)), vz), vs), 48);
}

/**
 * Bytes between consecutive kept f32 values of an N:M row: 16 in the 2:4 quad
 * layout (a position table is uploaded, D_RIDX ≠ 0; see `quadNM24` in
 * src/runtime/packed-weights.ts), 4 when row-major.
 */
@inline function keptStride(d: usize): usize {
  return dw(d, D_RIDX) != 0 ? 16 : 4;
}

/** Address of row r's first kept f32 value (quad layout: quad r >> 2, lane r & 3; else row-major). */
@inline function keptRow(d: usize, r: i32): usize {
  const k = <usize>dw(d, D_K);
  const L = (k / <usize>dw(d, D_MM)) * <usize>dw(d, D_NN);
  const vals = <usize>dw(d, D_VALUES);
  if (dw(d, D_RIDX) != 0) return vals + <usize>(r >> 2) * (k << 3) + (<usize>(r & 3) << 2);
  return vals + ((<usize>r * L) << 2);
}

/** Decodes row r of W exactly into dst [k] f32. */
function decodeRow(d: usize, r: i32, dst: usize): void {
  const kind = dw(d, D_KIND);
  const k = <i32>dw(d, D_K);
  const gs = <i32>dw(d, D_GS);
  const G = k / gs;
  if (kind == KIND_QUANT || kind == KIND_SPQR) {
    const bits = <i32>dw(d, D_BITS);
    const mask: u32 = (1 << bits) - 1;
    const segCols = <i32>dw(d, D_SEG);
    const rowBytes = <usize>dw(d, D_CODE_ROW);
    const row = <usize>dw(d, D_CODES) + <usize>r * rowBytes;
    const sp = <usize>dw(d, D_SCALE) + ((<usize>r * <usize>G) << 3);
    const zp = <usize>dw(d, D_ZERO) + ((<usize>r * <usize>G) << 3);
    // SpQR zero-points may be non-integer: keep the f64 expression there.
    const intZero = kind == KIND_QUANT;
    for (let t: i32 = 0; t < G; t++) {
      const c = t * gs;
      if (segCols > 0) {
        // Q4 GEMV layout: a group lies within one segment (segments are whole groups), its chunks 64 bytes apart;
        // a group of 16 (SpQR) is half a chunk.
        const so = q4StatOffset(<i32>dw(d, D_N), G, segCols / gs, r, t);
        const sc = load<f32>(<usize>dw(d, D_SCALE) + so);
        const z = load<f32>(<usize>dw(d, D_ZERO) + so);
        decodeSpan(q4ChunkAddr(<usize>dw(d, D_CODES), rowBytes, <i32>dw(d, D_N), segCols, r, c & ~31), c & 31, gs, bits, mask, sc, z, intZero, dst + (<usize>c << 2), 64);
      } else {
        decodeSpan(row, c, gs, bits, mask, load<f32>(sp + (<usize>t << 3)), load<f32>(zp + (<usize>t << 3)), intZero, dst + (<usize>c << 2));
      }
    }
    if (kind == KIND_SPQR) {
      // §5 overwrite: the outlier replaces the base value.
      const rp = <usize>dw(d, D_ORP);
      const cols = <usize>dw(d, D_OCOL);
      const vals = <usize>dw(d, D_OVAL);
      const p1 = load<u32>(rp + ((<usize>r + 1) << 2));
      for (let p = load<u32>(rp + (<usize>r << 2)); p < p1; p++) {
        store<f32>(dst + (<usize>load<u32>(cols + (<usize>p << 2)) << 2), load<f32>(vals + (<usize>p << 2)));
      }
    }
    return;
  }
  // N:M (f32 values or quantized codes): zero the row, scatter the kept slots.
  const n = <i32>dw(d, D_NN);
  const m = <i32>dw(d, D_MM);
  const ib = <i32>dw(d, D_IDX_BITS);
  const imask: u32 = (1 << ib) - 1;
  const irow = <usize>dw(d, D_IDX) + <usize>r * <usize>dw(d, D_IDX_ROW);
  memory.fill(dst, 0, <usize>k << 2);
  if (kind == KIND_NM) {
    const vrow = keptRow(d, r);
    const vs = keptStride(d);
    let s: i32 = 0;
    for (let g: i32 = 0; g < k; g += m) {
      for (let e = 0; e < n; e++, s++) {
        store<f32>(dst + ((<usize>g + getBits(irow, s, ib, imask)) << 2), load<f32>(vrow + <usize>s * vs));
      }
    }
    return;
  }
  // KIND_NMQ: groups of gs original columns = gs·n/m compressed slots (§4).
  const bits = <i32>dw(d, D_BITS);
  const mask: u32 = (1 << bits) - 1;
  const row = <usize>dw(d, D_CODES) + <usize>r * <usize>dw(d, D_CODE_ROW);
  const sp = <usize>dw(d, D_SCALE) + ((<usize>r * <usize>G) << 3);
  const zp = <usize>dw(d, D_ZERO) + ((<usize>r * <usize>G) << 3);
  let s: i32 = 0;
  let g: i32 = 0;
  for (let t: i32 = 0; t < G; t++) {
    const sc = load<f32>(sp + (<usize>t << 3));
    const z = load<f32>(zp + (<usize>t << 3));
    const gend = g + gs;
    for (; g < gend; g += m) {
      for (let e = 0; e < n; e++, s++) {
        const v = dequant(sc, getBits(row, s, bits, mask), z);
        store<f32>(dst + ((<usize>g + getBits(irow, s, ib, imask)) << 2), v);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Activation quantization (main thread, once per GEMV call).

/**
 * Quantizes a [k] to int8 per block of XB columns (absmax / 127, round to
 * nearest), writing:
 * - D_XS: f32 per-block scale sx_b;
 * - D_XQ: for Q4/Q8, i16 codes permuted per chunk of 8·cpl columns so that
 *   xq16[chunk + 8j + L] = xq[chunk + cpl·L + j] (cpl = codes per i16 lane);
 *   Q4 in the relaxed build, i8 codes, per 32 columns 16 evens then 16 odds;
 *   for NMQ4, i8 codes as swizzle tables, 20 bytes per 8 columns (see gemvNMQ4);
 * - D_XT: f32 per weight group t, T_t = Σ_{b ∈ t} sx_b · Σ_{i ∈ b} xq_i (Q4/Q8 zero-point term;
 *   groups of 16 in blocks of 32 (SpQR): sx_b · Σ_{i ∈ t} xq_i);
 * - D_XH (SpQR Q4 only): f32 x̂_i = sx_b · xq_i, what the base weights at the outliers multiplied.
 */
export function prepareActInt8(d: usize): void {
  const path = dw(d, D_PATH);
  const k = <i32>dw(d, D_K);
  const xb = <i32>dw(d, D_XB);
  const gs = <i32>dw(d, D_GS);
  const a = <usize>dw(d, D_A);
  const xq = <usize>dw(d, D_XQ);
  const xs = <usize>dw(d, D_XS);
  const xt = <usize>dw(d, D_XT);
  const xh = <usize>dw(d, D_XH);
  let tsum: f32 = 0;
  // SIMD throughout (xb and the layouts' chunks are multiples of 16 columns): the scalar loop took
  // ~2.2 ns per column, 9 µs per call at k = 4096 — 3 % of a 2-thread INT4 GEMV.
  for (let c0: i32 = 0, b: i32 = 0; c0 < k; c0 += xb, b++) {
    let am = f32x4.splat(0);
    for (let c = c0; c < c0 + xb; c += 4) am = f32x4.max(am, f32x4.abs(v128.load(a + (<usize>c << 2))));
    const amax: f32 = max(max(f32x4.extract_lane(am, 0), f32x4.extract_lane(am, 1)), max(f32x4.extract_lane(am, 2), f32x4.extract_lane(am, 3)));
    const sx: f32 = amax / 127;
    const inv = f32x4.splat(amax > 0 ? <f32>127 / amax : 0);
    store<f32>(xs + (<usize>b << 2), sx);
    let sum = i32x4.splat(0);
    for (let c = c0; c < c0 + xb; c += 32) {
      // Codes of columns c … c+15 (v0) and c+16 … c+31 (v1; unused past the block when xb = 16).
      const p = a + (<usize>c << 2);
      const q0 = quant4(p, inv), q1 = quant4(p + 16, inv), q2 = quant4(p + 32, inv), q3 = quant4(p + 48, inv);
      sum = i32x4.add(sum, i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3)));
      const v0 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3));
      let v1 = i8x16.splat(0);
      if (c + 16 < c0 + xb) {
        const r0 = quant4(p + 64, inv), r1 = quant4(p + 80, inv), r2 = quant4(p + 96, inv), r3 = quant4(p + 112, inv);
        sum = i32x4.add(sum, i32x4.add(i32x4.add(r0, r1), i32x4.add(r2, r3)));
        v1 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(r0, r1), i16x8.narrow_i32x4_s(r2, r3));
        if (gs < xb) {
          // Groups of 16 (SpQR), two per block: each group's own term.
          store<f32>(xt + (<usize>(c >> 4) << 2), sx * <f32>hsumI32(i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3))));
          store<f32>(xt + (<usize>(c >> 4) << 2), sx * <f32>hsumI32(i32x4.add(i32x4.add(r0, r1), i32x4.add(r2, r3))), 4);
        }
        if (xh != 0) {
          const vs = f32x4.splat(sx);
          const o = xh + (<usize>c << 2);
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(q0), vs));
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(q1), vs), 16);
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(q2), vs), 32);
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(q3), vs), 48);
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(r0), vs), 64);
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(r1), vs), 80);
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(r2), vs), 96);
          v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(r3), vs), 112);
        }
      }
      if (ASC_FEATURE_RELAXED_SIMD && path == PATH_Q4) {
        // i8, per 32 columns: the 16 even columns, then the 16 odd ones (low / high nibbles).
        const o = xq + <usize>c;
        v128.store(o, i8x16.shuffle(v0, v1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
        v128.store(o, i8x16.shuffle(v0, v1, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), 16);
      } else if (path == PATH_NMQ4C) {
        // Plain i8 codes: a 16-column chunk is one swizzle table.
        v128.store(xq + <usize>c, v0);
        if (c + 16 < c0 + xb) v128.store(xq + <usize>c, v1, 16);
      } else if (path == PATH_NMQ4) {
        // Per 8 columns (20 bytes): the even 4-column group as is (x0 … x3, splatted by the kernel into a
        // period-4 table), then the odd one with each activation repeated 4 times (x4 ×4 … x7 ×4).
        const o = xq + <usize>(c >> 3) * 20;
        nmq4Tables(o, v0);
        if (c + 16 < c0 + xb) nmq4Tables(o + 40, v1);
      } else if (path == PATH_Q4) {
        // i16, per 32 columns: xq16[c + 8j + l] = q[c + 4l + j], nibble j's pre-scaled by 256, 16, 1, 256 (see q4dot).
        const o = xq + (<usize>c << 1);
        v128.store(o, i16x8.shl(i16x8.extend_low_i8x16_s(i8x16.shuffle(v0, v1, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0)), 8));
        v128.store(o, i16x8.shl(i16x8.extend_low_i8x16_s(i8x16.shuffle(v0, v1, 1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 0, 0, 0, 0, 0, 0)), 4), 16);
        v128.store(o, i16x8.extend_low_i8x16_s(i8x16.shuffle(v0, v1, 2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0)), 32);
        v128.store(o, i16x8.shl(i16x8.extend_low_i8x16_s(i8x16.shuffle(v0, v1, 3, 7, 11, 15, 19, 23, 27, 31, 0, 0, 0, 0, 0, 0, 0, 0)), 8), 48);
      } else {
        // Q8, i16, per 16 columns: xq16[c + 8j + l] = q[c + 2l + j].
        let o = xq + (<usize>c << 1);
        v128.store(o, i16x8.extend_low_i8x16_s(i8x16.shuffle(v0, v0, 0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0)));
        v128.store(o, i16x8.extend_low_i8x16_s(i8x16.shuffle(v0, v0, 1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0)), 16);
        if (c + 16 < c0 + xb) {
          o += 32;
          v128.store(o, i16x8.extend_low_i8x16_s(i8x16.shuffle(v1, v1, 0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0)));
          v128.store(o, i16x8.extend_low_i8x16_s(i8x16.shuffle(v1, v1, 1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0)), 16);
        }
      }
    }
    tsum += sx * <f32>hsumI32(sum);
    if (gs >= xb && (c0 + xb) % gs == 0) {
      store<f32>(xt + (<usize>((c0 + xb) / gs - 1) << 2), tsum);
      tsum = 0;
    }
  }
}

/** Sum of the 4 lanes of an i32x4. */
@inline function hsumI32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** Codes of 4 activations at p: round-to-nearest-even of x·inv, clamped to ±127, as i32x4. */
@inline function quant4(p: usize, inv: v128): v128 {
  const q = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p), inv)));
  return i32x4.min_s(i32x4.splat(127), i32x4.max_s(i32x4.splat(-127), q));
}

/** NMQ4 activation tables of 16 columns (v) at o: per 8 columns, 4 bytes as is, then 4 bytes each repeated 4 times. */
@inline function nmq4Tables(o: usize, v: v128): void {
  v128.store32_lane(o, v, 0);
  v128.store(o, i8x16.shuffle(v, v, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7), 4);
  v128.store32_lane(o, v, 2, 20);
  v128.store(o, i8x16.shuffle(v, v, 12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15), 24);
}

// ---------------------------------------------------------------------------
// GEMV fast paths (m = 1).

/**
 * Relaxed-SIMD Q4 step (built into dense-relaxed.wasm only): 32 codes as even
 * (low nibbles) and odd (high nibbles) i8 lanes times the int8 activations,
 * stored per 32 columns as [16 evens | 16 odds] (xe, xo), added to the i16
 * accumulator `acc`. `i16x8.relaxed_dot_i8x16_i7x16_s` (one pmaddubsw) is
 * exact here: codes are in [0, 15] (i7), and an i16 lane gathers 4 products
 * per 32 columns, so over an activation block of at most 128 columns it stays
 * within 16·127·15 = 30480 (no saturation). The caller widens the block sum
 * with one pmaddwd by ones (q4reduce), so i32 lane l sums bytes 4l … 4l+3 as in
 * the baseline kernel. (`i32x4.relaxed_dot_i8x16_i7x16_add_s` gave wrong sums
 * under Node 20's V8 11.3 with --experimental-wasm-relaxed-simd.)
 */
@inline function q4dotRelaxed(v: v128, xe: v128, xo: v128, acc: v128, m4: v128): v128 {
  return i16x8.add(acc, q4dotRelaxed1(v, xe, xo, m4));
}

/** q4dotRelaxed of one 32-code vector on its own (no accumulator: the sums of groups of 16, q4Segment16). */
@inline function q4dotRelaxed1(v: v128, xe: v128, xo: v128, m4: v128): v128 {
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xe, v128.and(v, m4)), i16x8.relaxed_dot_i8x16_i7x16_s(xo, v128.and(i16x8.shr_u(v, 4), m4)));
}

/**
 * Block sums of a quad of the Q4 kernels as one i32x4, lane r = row r:
 * relaxed build, each row's i16 pair sums are widened first (pmaddwd by ones);
 * then the 4 rows' i32x4 partial sums are transposed and added (4 unpacks, 2
 * shuffles, 3 adds — exact integer sums), so the scaling that follows is one
 * vector operation per quad instead of one per row. Baseline build: ÷ 256,
 * undoing the pre-scaled activations (exact: every partial sum is a multiple
 * of 256, and a block's sum stays below 2^31).
 */
@inline function q4reduce(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const ones = i16x8.splat(1);
    a0 = i32x4.dot_i16x8_s(a0, ones);
    a1 = i32x4.dot_i16x8_s(a1, ones);
    a2 = i32x4.dot_i16x8_s(a2, ones);
    a3 = i32x4.dot_i16x8_s(a3, ones);
  }
  // u01 = [a0₀+a0₂, a1₀+a1₂, a0₁+a0₃, a1₁+a1₃], u23 likewise; then lanes 0, 1 + lanes 2, 3.
  const u01 = i32x4.add(i8x16.shuffle(a0, a1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23),
    i8x16.shuffle(a0, a1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31));
  const u23 = i32x4.add(i8x16.shuffle(a2, a3, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23),
    i8x16.shuffle(a2, a3, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31));
  const v = i32x4.add(i8x16.shuffle(u01, u23, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
    i8x16.shuffle(u01, u23, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  if (ASC_FEATURE_RELAXED_SIMD) return v;
  return i32x4.shr_s(v, 8);
}

/**
 * One block of Q4 codes of a quad (xb columns from `w`, activations from `x`):
 * returns the 4 rows' exact integer sums Σ q·x as one i32x4 (q4reduce).
 * Advances nothing; the caller steps w by xb·2 and x by xb·(1 or 2) bytes.
 */
@inline function q4QuadBlock(w: usize, x: usize, cpb: i32, m0: v128, m1: v128, m2: v128): v128 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  for (let c: i32 = 0; c < cpb; c++) {
    if (ASC_FEATURE_RELAXED_SIMD) {
      const xe = v128.load(x), xo = v128.load(x, 16);
      a0 = q4dotRelaxed(v128.load(w), xe, xo, a0, m0);
      a1 = q4dotRelaxed(v128.load(w, 16), xe, xo, a1, m0);
      a2 = q4dotRelaxed(v128.load(w, 32), xe, xo, a2, m0);
      a3 = q4dotRelaxed(v128.load(w, 48), xe, xo, a3, m0);
      x += 32;
    } else {
      const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
      a0 = i32x4.add(a0, q4dot(v128.load(w), m0, m1, m2, x0, x1, x2, x3));
      a1 = i32x4.add(a1, q4dot(v128.load(w, 16), m0, m1, m2, x0, x1, x2, x3));
      a2 = i32x4.add(a2, q4dot(v128.load(w, 32), m0, m1, m2, x0, x1, x2, x3));
      a3 = i32x4.add(a3, q4dot(v128.load(w, 48), m0, m1, m2, x0, x1, x2, x3));
      x += 64;
    }
    w += 64;
  }
  return q4reduce(a0, a1, a2, a3);
}

/** Dynamic byte gather; the relaxed form (one pshufb) is exact for the in-range masks passed here. */
@inline function swz(a: v128, s: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(a, s);
  return i8x16.swizzle(a, s);
}

/**
 * Baseline Q4 step: 32 codes (nibble j of i16 lane l = element 8j + l) times
 * i16 activations pre-scaled by 256, 16, 1, 256 for j = 0 … 3 (prepareActInt8),
 * so each nibble needs one mask or shift instead of a shift and a mask: every
 * product is 256 × code × x exactly (|x| ≤ 127 · 256 fits i16, sums fit i32),
 * and the caller divides the block sum by 256 (an exact arithmetic shift).
 */
@inline function q4dot(v: v128, m0: v128, m1: v128, m2: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const s0 = i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m0), x0), i32x4.dot_i16x8_s(v128.and(v, m1), x1));
  const s1 = i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m2), x2), i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), x3));
  return i32x4.add(s0, s1);
}

/**
 * Q4 GEMV of rows [j0, j1): 32 codes per 16-byte vector, int8 activations in
 * i16 lanes (i8 in the relaxed build). Rows go 4 at a time (a quad) so each
 * activation vector load feeds 4 rows. The codes are laid out at upload in
 * blocks of Q4_QB quads × k-segments of D_SEG columns × quads × 64-byte
 * chunks (chunk c of the quad's 4 rows), and the kernel walks them in that
 * order: a thread reads one sequential stream (separate 2 KiB row streams kept
 * the hardware prefetchers from ramping up: 1.6× slower from DRAM), and a
 * segment's activations (≤ 8 KiB) stay in L1 while the block's quads stream past
 * (re-reading all k activations per quad was 1.5× slower from DRAM at
 * k = 11008, where they no longer fit next to the stream). The (scale, zero)
 * statistics follow the same block → segment order (q4StatOffset). Each quad's f32
 * accumulators are parked in per-thread scratch between segments, so every
 * output is the same sequence of operations as in one pass over k: results do
 * not depend on the layout or the thread split. A last partial quad
 * (n % 4 ≠ 0) runs on the layout's zero padding; only its real rows are stored.
 * The segment loop is its own function (q4Segment): written inline in this
 * loop nest, the same code measured 5–10 % slower.
 */
function gemvQ4(d: usize, j0: i32, j1: i32, scratch: usize): void {
  const k = <i32>dw(d, D_K);
  const n = <i32>dw(d, D_N);
  const gs = <i32>dw(d, D_GS);
  const G = k / gs;
  const codes = <usize>dw(d, D_CODES);
  const rowBytes = <usize>dw(d, D_CODE_ROW);
  const segCols = <i32>dw(d, D_SEG);
  const gps = segCols / gs; // groups per segment
  const out = <usize>dw(d, D_OUT);
  const nq = (n + 3) >> 2;
  // Whole quads; the thread owning the last rows also runs a partial last quad (n % 4 ≠ 0) on its zero padding.
  const q0 = j0 >> 2;
  const q1 = (j1 + 3) >> 2;
  for (let qa = q0; qa < q1; ) {
    const blk = qa / Q4_QB;
    const qe = min((blk + 1) * Q4_QB, q1);
    const qb = <usize>min(Q4_QB, nq - blk * Q4_QB);
    const blockBase = codes + <usize>(blk * Q4_QB) * (rowBytes << 2);
    // Per quad 32 bytes of state: f and c (f32x4, lane = row).
    memory.fill(scratch, 0, <usize>(qe - qa) << 5);
    for (let t0: i32 = 0; t0 < G; t0 += gps) {
      const t1 = min(G, t0 + gps);
      const sb = <usize>(t0 * gs) >> 1; // segment start, bytes into a row
      const len = min(<usize>segCols >> 1, rowBytes - sb);
      const w = blockBase + sb * (qb << 2) + <usize>(qa - blk * Q4_QB) * (len << 2);
      if (gs == 16) q4Segment16(d, qe - qa, t0, t1, w, q4StatOffset(n, G, gps, qa << 2, t0), scratch);
      else q4Segment(d, qe - qa, t0, t1, w, q4StatOffset(n, G, gps, qa << 2, t0), scratch);
    }
    const spqr = dw(d, D_OBASE) != 0;
    for (let q = qa; q < qe; q++) {
      const st = scratch + (<usize>(q - qa) << 5);
      let y = f32x4.sub(v128.load(st), v128.load(st, 16));
      if (spqr) y = f32x4.add(y, outlierQuad(d, q << 2, n));
      storeQuad(out, q, j1, y);
    }
    qa = qe;
  }
}

/**
 * One k-segment (groups [t0, t1)) of `nq` consecutive quads of the Q4 GEMV:
 * codes from `w` on (the quads' segment chunks follow each other), statistics
 * at byte offset `so0` (per quad and group 32 bytes: 4 scales, 4 zero-points),
 * accumulators f, c continued from / saved to 32 bytes of state per quad at `st`.
 */
function q4Segment(d: usize, nq: i32, t0: i32, t1: i32, w: usize, so0: usize, st: usize): void {
  const gs = <i32>dw(d, D_GS);
  const xb = <i32>dw(d, D_XB);
  const bpg = gs / xb;
  const cpb = xb >> 5;
  const xq = <usize>dw(d, D_XQ);
  const xs = <usize>dw(d, D_XS);
  const xt = <usize>dw(d, D_XT);
  // Activation bytes per column: i16 (baseline) or i8 (relaxed); code bytes per block.
  const xcol: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;
  const xblk = <usize>(xb * xcol);
  const wblk = <usize>xb << 1;
  // Nibble masks: byte splat of 0x0f (relaxed), or i16 splats of 0x000f, 0x00f0, 0x0f00 (baseline).
  const m0 = cv(d, ASC_FEATURE_RELAXED_SIMD ? C_0F : C_M0), m1 = cv(d, C_M1), m2 = cv(d, C_M2);
  let sp = <usize>dw(d, D_SCALE) + so0;
  for (let q: i32 = 0; q < nq; q++, st += 32) {
    let x = xq + <usize>(t0 * gs * xcol);
    let f = v128.load(st), c = v128.load(st, 16);
    let b = t0 * bpg;
    for (let t = t0; t < t1; t++, sp += 32) {
      const S = v128.load(sp), Z = v128.load(sp, 16);
      c = f32x4.add(c, f32x4.mul(f32x4.mul(S, Z), f32x4.splat(load<f32>(xt + (<usize>t << 2)))));
      for (let bb: i32 = 0; bb < bpg; bb++, b++) {
        const v = q4QuadBlock(w, x, cpb, m0, m1, m2);
        f = f32x4.add(f, f32x4.mul(f32x4.convert_i32x4_s(v), f32x4.mul(S, f32x4.splat(load<f32>(xs + (<usize>b << 2))))));
        w += wblk;
        x += xblk;
      }
    }
    v128.store(st, f);
    v128.store(st, c, 16);
  }
}

/**
 * One k-segment of the Q4 GEMV for groups of 16 columns (SpQR, and §2 weights; groups [t0, t1), t0 even): as q4Segment, but
 * each 32-column chunk is one activation block holding two groups, so a quad's 4 row sums per chunk are
 * split by group (in both builds i32 lanes 0, 1 of a row's chunk sum cover its first 16 codes, lanes 2, 3
 * the next 16), transposed into one vector per group (lane = row), and each group is scaled on its own:
 * f += S·(sx·Σq·xq − Z·T) — Z need not be an integer. c stays 0.
 */
function q4Segment16(d: usize, nq: i32, t0: i32, t1: i32, w: usize, so0: usize, st: usize): void {
  const xq = <usize>dw(d, D_XQ);
  const xs = <usize>dw(d, D_XS);
  const xt = <usize>dw(d, D_XT);
  const xcol: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;
  const m0 = cv(d, ASC_FEATURE_RELAXED_SIMD ? C_0F : C_M0), m1 = cv(d, C_M1), m2 = cv(d, C_M2);
  const ones = cv(d, C_ONES16);
  let sp = <usize>dw(d, D_SCALE) + so0;
  for (let q: i32 = 0; q < nq; q++, st += 32) {
    let x = xq + <usize>((t0 << 4) * xcol);
    let f = v128.load(st);
    for (let t = t0; t < t1; t += 2, sp += 64, w += 64) {
      let a0: v128, a1: v128, a2: v128, a3: v128;
      if (ASC_FEATURE_RELAXED_SIMD) {
        const xe = v128.load(x), xo = v128.load(x, 16);
        a0 = i32x4.dot_i16x8_s(q4dotRelaxed1(v128.load(w), xe, xo, m0), ones);
        a1 = i32x4.dot_i16x8_s(q4dotRelaxed1(v128.load(w, 16), xe, xo, m0), ones);
        a2 = i32x4.dot_i16x8_s(q4dotRelaxed1(v128.load(w, 32), xe, xo, m0), ones);
        a3 = i32x4.dot_i16x8_s(q4dotRelaxed1(v128.load(w, 48), xe, xo, m0), ones);
        x += 32;
      } else {
        const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
        a0 = q4dot(v128.load(w), m0, m1, m2, x0, x1, x2, x3);
        a1 = q4dot(v128.load(w, 16), m0, m1, m2, x0, x1, x2, x3);
        a2 = q4dot(v128.load(w, 32), m0, m1, m2, x0, x1, x2, x3);
        a3 = q4dot(v128.load(w, 48), m0, m1, m2, x0, x1, x2, x3);
        x += 64;
      }
      // Unpacks (one instruction each): u = [r0 l0, r1 l0, r0 l1, r1 l1], v likewise for rows 2, 3 (and uh, vh
      // for lanes 2, 3), so a group's vector (lane = row) is the sum of two 64-bit interleaves.
      const u = i8x16.shuffle(a0, a1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
      const v = i8x16.shuffle(a2, a3, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
      const uh = i8x16.shuffle(a0, a1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
      const vh = i8x16.shuffle(a2, a3, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
      let g0 = i32x4.add(i8x16.shuffle(u, v, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), i8x16.shuffle(u, v, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
      let g1 = i32x4.add(i8x16.shuffle(uh, vh, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), i8x16.shuffle(uh, vh, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
      if (!ASC_FEATURE_RELAXED_SIMD) {
        // Undo the baseline activations' pre-scaling by 256 (exact, as in q4reduce).
        g0 = i32x4.shr_s(g0, 8);
        g1 = i32x4.shr_s(g1, 8);
      }
      const sx = v128.load32_splat(xs + (<usize>(t >> 1) << 2));
      const T = xt + (<usize>t << 2);
      f = f32x4.add(f, f32x4.mul(v128.load(sp), f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(g0), sx), f32x4.mul(v128.load(sp, 16), v128.load32_splat(T)))));
      f = f32x4.add(f, f32x4.mul(v128.load(sp, 32), f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(g1), sx), f32x4.mul(v128.load(sp, 48), v128.load32_splat(T, 4)))));
    }
    v128.store(st, f);
  }
}

/**
 * The SpQR outliers' correction of rows r0 … r0+3 (those below n), one lane per row: Σ (v·x − b·x̂) over
 * the row's outliers (§5 overwrite: the base ran over every column with the quantized activations x̂; the
 * outlier value v takes the exact activation x in place of its base weight b).
 */
function outlierQuad(d: usize, r0: i32, n: i32): v128 {
  const rp = <usize>dw(d, D_ORP);
  const cols = <usize>dw(d, D_OCOL);
  const vals = <usize>dw(d, D_OVAL);
  const bs = <usize>dw(d, D_OBASE);
  const x = <usize>dw(d, D_A);
  const xh = <usize>dw(d, D_XH);
  let v = f32x4.splat(0);
  for (let l: i32 = 0; l < 4; l++) {
    const r = r0 + l;
    if (r >= n) break;
    let s: f32 = 0;
    const p1 = load<u32>(rp + ((<usize>r + 1) << 2));
    for (let p = load<u32>(rp + (<usize>r << 2)); p < p1; p++) {
      const c = <usize>load<u32>(cols + (<usize>p << 2)) << 2;
      s += load<f32>(vals + (<usize>p << 2)) * load<f32>(x + c) - load<f32>(bs + (<usize>p << 2)) * load<f32>(xh + c);
    }
    if (l == 0) v = f32x4.replace_lane(v, 0, s);
    else if (l == 1) v = f32x4.replace_lane(v, 1, s);
    else if (l == 2) v = f32x4.replace_lane(v, 2, s);
    else v = f32x4.replace_lane(v, 3, s);
  }
  return v;
}

/**
 * Q8 GEMV of rows [j0, j1): 16 codes per vector (two bytes per i16 lane: the
 * even column masked, the odd one shifted down, against the i16 activations
 * permuted to match). Rows go 4 at a time, a quarter of the claim apart
 * (gemvQ8Rows4), so each activation load feeds 4 rows; a left-over row runs as
 * all 4 rows of one call, so every row takes the same operations whatever the split.
 */
function gemvQ8(d: usize, j0: i32, j1: i32): void {
  const share = (j1 - j0) >> 2;
  for (let i: i32 = 0; i < share; i++) gemvQ8Rows4(d, j0 + i, share);
  // Left-over rows: the same kernel with step 0 (row j four times, stored four times alike).
  for (let j = j0 + (share << 2); j < j1; j++) gemvQ8Rows4(d, j, 0);
}

/**
 * Q8 GEMV of rows j, j + step, j + 2·step, j + 3·step (row-major codes: 4
 * streams, each running on sequentially across rows as j advances; 4
 * consecutive rows, 4 KiB apart at k = 4096, ran 0.77–0.83× the one-row
 * kernel): per activation vector pair, the 4 rows' code vectors. `step` 0
 * computes row j alone (stored 4 times).
 */
function gemvQ8Rows4(d: usize, j: i32, step: i32): void {
  const k = <i32>dw(d, D_K);
  const gs = <i32>dw(d, D_GS);
  const G = k / gs;
  const xb = <i32>dw(d, D_XB);
  const bpg = gs / xb;
  const cpb = xb >> 4;
  const xs = <usize>dw(d, D_XS);
  const xt = <usize>dw(d, D_XT);
  const rb = <usize>dw(d, D_CODE_ROW) * <usize>step;
  const m8 = i16x8.splat(0x00ff);
  const gb = (<usize>G << 3) * <usize>step;
  const sp = <usize>dw(d, D_SCALE) + <usize>j * (<usize>G << 3);
  const zp = <usize>dw(d, D_ZERO) + <usize>j * (<usize>G << 3);
  let w = <usize>dw(d, D_CODES) + <usize>j * <usize>dw(d, D_CODE_ROW);
  let x = <usize>dw(d, D_XQ);
  let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
  let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0;
  let b: i32 = 0;
  for (let t: i32 = 0; t < G; t++) {
    const o = <usize>t << 3;
    const s0 = load<f32>(sp + o), s1 = load<f32>(sp + gb + o), s2 = load<f32>(sp + 2 * gb + o), s3 = load<f32>(sp + 3 * gb + o);
    const T = load<f32>(xt + (<usize>t << 2));
    c0 += s0 * load<f32>(zp + o) * T;
    c1 += s1 * load<f32>(zp + gb + o) * T;
    c2 += s2 * load<f32>(zp + 2 * gb + o) * T;
    c3 += s3 * load<f32>(zp + 3 * gb + o) * T;
    for (let bb: i32 = 0; bb < bpg; bb++, b++) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let wv = w;
      let xv = x;
      for (let c: i32 = 0; c < cpb; c++) {
        const x0 = v128.load(xv), x1 = v128.load(xv, 16);
        let v = v128.load(wv);
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m8), x0), i32x4.dot_i16x8_s(i16x8.shr_u(v, 8), x1)));
        v = v128.load(wv + rb);
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m8), x0), i32x4.dot_i16x8_s(i16x8.shr_u(v, 8), x1)));
        v = v128.load(wv + 2 * rb);
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m8), x0), i32x4.dot_i16x8_s(i16x8.shr_u(v, 8), x1)));
        v = v128.load(wv + 3 * rb);
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m8), x0), i32x4.dot_i16x8_s(i16x8.shr_u(v, 8), x1)));
        wv += 16;
        xv += 32;
      }
      const sx = load<f32>(xs + (<usize>b << 2));
      f0 = f32x4.add(f0, f32x4.mul(f32x4.convert_i32x4_s(a0), f32x4.splat(s0 * sx)));
      f1 = f32x4.add(f1, f32x4.mul(f32x4.convert_i32x4_s(a1), f32x4.splat(s1 * sx)));
      f2 = f32x4.add(f2, f32x4.mul(f32x4.convert_i32x4_s(a2), f32x4.splat(s2 * sx)));
      f3 = f32x4.add(f3, f32x4.mul(f32x4.convert_i32x4_s(a3), f32x4.splat(s3 * sx)));
      w += <usize>xb;
      x += <usize>xb << 1;
    }
  }
  const out = <usize>dw(d, D_OUT) + (<usize>j << 2);
  const os = <usize>step << 2;
  store<f32>(out, hsum(f0) - c0);
  store<f32>(out + os, hsum(f1) - c1);
  store<f32>(out + 2 * os, hsum(f2) - c2);
  store<f32>(out + 3 * os, hsum(f3) - c3);
}

/**
 * One 4-column group of a quad (4 rows in lanes) of the 2:4 f32 GEMV: `m4`
 * holds the quad's 4 position bytes (byte r = 4·p0 | 4·p1 << 4 for row r's two
 * kept slots), `xg` the group's 4 activations, `v` the kept values (slot 0 of
 * rows 0–3, then slot 1). Two unpacks copy byte r to bytes 4r … 4r+3; masking
 * with 0x0c (`mC`) and or-ing `J` (bytes 0, 1, 2, 3 repeated) turns them into
 * the byte indices of x[p] in the f32 lane of row r, so one swizzle gathers a
 * slot's activation for all 4 rows. `relaxed_swizzle` (one pshufb) is exact:
 * every index is below 16. (A swizzle by a constant pattern instead of the
 * unpacks measured the same with relaxed SIMD and 0.8× in the baseline build,
 * where V8 adds a range fix-up to every swizzle.) Used for the groups
 * nm24Groups4 leaves (a last pair when k % 16 = 8) and for left-over quads; it
 * gives the same indices, so the same results.
 */
@inline function nm24Group(acc: v128, xg: v128, m4: v128, J: v128, mC: v128, v: usize): v128 {
  let b = i8x16.shuffle(m4, m4, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  b = i8x16.shuffle(b, b, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7);
  acc = f32x4.add(acc, f32x4.mul(swz(xg, v128.or(v128.and(b, mC), J)), v128.load(v)));
  return f32x4.add(acc, f32x4.mul(swz(xg, v128.or(v128.and(i16x8.shr_u(b, 4), mC), J)), v128.load(v, 16)));
}

/**
 * 4 groups (16 columns) of a quad, as 4 × nm24Group with the same operations
 * on the accumulator: `mv` holds the position bytes of the 4 groups × 4 rows,
 * `x0` … `x3` the groups' activations. The slot indices 4·p0 (A) and 4·p1 (B)
 * of all 4 groups are masked at once; interleaving A with A + 1, then the pairs
 * with themselves + 2, both spreads each row's byte over its f32 lane and adds
 * the byte offsets 0 … 3 — 21 operations for the 8 index vectors instead of 28
 * (1.01–1.13× on 2 threads, A/B in one process).
 */
@inline function nm24Groups4(acc: v128, mv: v128, x0: v128, x1: v128, x2: v128, x3: v128, mC: v128, one: v128, two: v128, v: usize): v128 {
  const A = v128.and(mv, mC);
  const B = v128.and(i16x8.shr_u(mv, 4), mC);
  const A1 = i8x16.add(A, one), B1 = i8x16.add(B, one);
  const LA = i8x16.shuffle(A, A1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const HA = i8x16.shuffle(A, A1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const LB = i8x16.shuffle(B, B1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const HB = i8x16.shuffle(B, B1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const LA2 = i8x16.add(LA, two), HA2 = i8x16.add(HA, two), LB2 = i8x16.add(LB, two), HB2 = i8x16.add(HB, two);
  acc = f32x4.add(acc, f32x4.mul(swz(x0, i8x16.shuffle(LA, LA2, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23)), v128.load(v)));
  acc = f32x4.add(acc, f32x4.mul(swz(x0, i8x16.shuffle(LB, LB2, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23)), v128.load(v, 16)));
  acc = f32x4.add(acc, f32x4.mul(swz(x1, i8x16.shuffle(LA, LA2, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)), v128.load(v, 32)));
  acc = f32x4.add(acc, f32x4.mul(swz(x1, i8x16.shuffle(LB, LB2, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)), v128.load(v, 48)));
  acc = f32x4.add(acc, f32x4.mul(swz(x2, i8x16.shuffle(HA, HA2, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23)), v128.load(v, 64)));
  acc = f32x4.add(acc, f32x4.mul(swz(x2, i8x16.shuffle(HB, HB2, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23)), v128.load(v, 80)));
  acc = f32x4.add(acc, f32x4.mul(swz(x3, i8x16.shuffle(HA, HA2, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)), v128.load(v, 96)));
  acc = f32x4.add(acc, f32x4.mul(swz(x3, i8x16.shuffle(HB, HB2, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)), v128.load(v, 112)));
  return acc;
}

/** Stores the 4 results of quad q (rows 4q … 4q+3) that lie below `j1`. */
@inline function storeQuad(out: usize, q: i32, j1: i32, f: v128): void {
  const o = out + (<usize>q << 4);
  const r = q << 2;
  if (r + 4 <= j1) {
    v128.store(o, f);
    return;
  }
  store<f32>(o, f32x4.extract_lane(f, 0));
  if (r + 1 < j1) store<f32>(o, f32x4.extract_lane(f, 1), 4);
  if (r + 2 < j1) store<f32>(o, f32x4.extract_lane(f, 2), 8);
}

/**
 * 2:4 f32 GEMV of rows [j0, j1) on the quad layout (`quadNM24` in
 * src/runtime/packed-weights.ts): rows sit in the lanes of an f32x4, so per
 * 4-column group one position word and two swizzles of the group's
 * activations serve 4 rows, with no per-row address arithmetic. (The previous
 * kernel looked each row's kept pair up in an activation pair table: two
 * 8-byte loads and their scalar offsets per row and 8 columns; it was
 * compute-bound at 1.0× dense f32 on 1 thread.) Per quad the values are k·8
 * contiguous bytes and the positions k bytes; a thread runs four quads a
 * quarter of its claimed rows apart, so four value streams are in flight (one
 * stream per thread ran at ~11 GB/s from DRAM on 1 thread, four at ~18). One
 * accumulator per quad takes the groups in order (two, one for even and one
 * for odd groups, ran 0.92–0.98× as fast: more spills): each row's result is
 * the same sequence of operations whatever the thread split. `D_XQ` holds
 * the constants `J`, `mC`, `one`, `two` (written by the caller: V8 11.3
 * re-creates v128 constants inside loops, in up to four instructions each).
 * After each quad's 16 columns its accumulator is stored to the thread's
 * `scratch` (64 bytes, never read): V8 keeps wasm loads in program order
 * around a store, so the store ends one quad's loads and arithmetic before
 * the next quad's loads. Without it V8 issued all 36 loads of a step first and
 * spilled a third of them to the stack (1.02–1.23× faster with the stores,
 * A/B, 2 threads, bit-identical).
 */
function gemvNM24(d: usize, j0: i32, j1: i32, scratch: usize): void {
  const k = <i32>dw(d, D_K);
  const G4 = k >> 2;
  const vals = <usize>dw(d, D_VALUES);
  const meta = <usize>dw(d, D_RIDX);
  const x = <usize>dw(d, D_A);
  const out = <usize>dw(d, D_OUT);
  const J = cv(d, C_J), mC = cv(d, C_0C), one = cv(d, C_01), two = cv(d, C_02);
  const vq = <usize>k << 3;
  const mq = <usize>k;
  const qa = j0 >> 2;
  const qb = (j1 + 3) >> 2;
  const share = (qb - qa) >> 2;
  const dv = <usize>share * vq, dm = <usize>share * mq;
  for (let i: i32 = 0; i < share; i++) {
    const q = qa + i;
    let v = vals + <usize>q * vq;
    let m = meta + <usize>q * mq;
    let xp = x;
    let a0 = f32x4.splat(0), b0 = f32x4.splat(0), c0 = f32x4.splat(0), e0 = f32x4.splat(0);
    let g: i32 = 0;
    for (; g + 4 <= G4; g += 4) {
      const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
      a0 = nm24Groups4(a0, v128.load(m), x0, x1, x2, x3, mC, one, two, v);
      v128.store(scratch, a0);
      b0 = nm24Groups4(b0, v128.load(m + dm), x0, x1, x2, x3, mC, one, two, v + dv);
      v128.store(scratch, b0, 16);
      c0 = nm24Groups4(c0, v128.load(m + 2 * dm), x0, x1, x2, x3, mC, one, two, v + 2 * dv);
      v128.store(scratch, c0, 32);
      e0 = nm24Groups4(e0, v128.load(m + 3 * dm), x0, x1, x2, x3, mC, one, two, v + 3 * dv);
      v128.store(scratch, e0, 48);
      v += 128;
      m += 16;
      xp += 64;
    }
    for (; g < G4; g += 2) {
      const x0 = v128.load(xp), x1 = v128.load(xp, 16);
      a0 = nm24Group(nm24Group(a0, x0, v128.load32_zero(m), J, mC, v), x1, v128.load32_zero(m, 4), J, mC, v + 32);
      b0 = nm24Group(nm24Group(b0, x0, v128.load32_zero(m + dm), J, mC, v + dv), x1, v128.load32_zero(m + dm, 4), J, mC, v + dv + 32);
      c0 = nm24Group(nm24Group(c0, x0, v128.load32_zero(m + 2 * dm), J, mC, v + 2 * dv), x1, v128.load32_zero(m + 2 * dm, 4), J, mC, v + 2 * dv + 32);
      e0 = nm24Group(nm24Group(e0, x0, v128.load32_zero(m + 3 * dm), J, mC, v + 3 * dv), x1, v128.load32_zero(m + 3 * dm, 4), J, mC, v + 3 * dv + 32);
      v += 64;
      m += 8;
      xp += 32;
    }
    storeQuad(out, q, j1, a0);
    storeQuad(out, q + share, j1, b0);
    storeQuad(out, q + 2 * share, j1, c0);
    storeQuad(out, q + 3 * share, j1, e0);
  }
  // The last (qb − qa) mod 4 quads, one at a time (the same operations per quad).
  for (let q = qa + (share << 2); q < qb; q++) {
    let v = vals + <usize>q * vq;
    let m = meta + <usize>q * mq;
    let xp = x;
    let a0 = f32x4.splat(0);
    for (let g: i32 = 0; g < G4; g++) {
      a0 = nm24Group(a0, v128.load(xp), v128.load32_zero(m), J, mC, v);
      v += 32;
      m += 4;
      xp += 16;
    }
    storeQuad(out, q, j1, a0);
  }
}

/** Bytes of one octet's 128-column step in the NMQ4 stream: 8 × (16 B positions, 32 B codes). */
const NMQ4_STEP: usize = 384;
/** Bytes of one octet's group statistics in the NMQ4 stream: 8 f32 scales, then 8 i32 zero-points. */
const NMQ4_STAT: usize = 64;
/** Octets per block of the NMQ4 GEMV layout (NMQ4_BLOCK_OCTETS in src/runtime/packed-weights.ts). */
const NMQ4_OB: i32 = 8;

/** Stores lane `l` of an octet's result (row r0 + l) when that row is in [j0, j1). */
@inline function storeOctetRow(out: usize, r0: i32, j0: i32, j1: i32, f0: v128, f1: v128): void {
  if (r0 >= j0 && r0 < j1) store<f32>(out + (<usize>r0 << 2), f32x4.extract_lane(f0, 0));
  if (r0 + 1 >= j0 && r0 + 1 < j1) store<f32>(out + (<usize>(r0 + 1) << 2), f32x4.extract_lane(f0, 1));
  if (r0 + 2 >= j0 && r0 + 2 < j1) store<f32>(out + (<usize>(r0 + 2) << 2), f32x4.extract_lane(f0, 2));
  if (r0 + 3 >= j0 && r0 + 3 < j1) store<f32>(out + (<usize>(r0 + 3) << 2), f32x4.extract_lane(f0, 3));
  if (r0 + 4 >= j0 && r0 + 4 < j1) store<f32>(out + (<usize>(r0 + 4) << 2), f32x4.extract_lane(f1, 0));
  if (r0 + 5 >= j0 && r0 + 5 < j1) store<f32>(out + (<usize>(r0 + 5) << 2), f32x4.extract_lane(f1, 1));
  if (r0 + 6 >= j0 && r0 + 6 < j1) store<f32>(out + (<usize>(r0 + 6) << 2), f32x4.extract_lane(f1, 2));
  if (r0 + 7 >= j0 && r0 + 7 < j1) store<f32>(out + (<usize>(r0 + 7) << 2), f32x4.extract_lane(f1, 3));
}

/**
 * Relaxed-SIMD NMQ4 step (dense-relaxed.wasm only): one octet's hn × 32 columns (128, or a group of 32 / 64),
 * returned as the i32 sums Σ x·q of rows 0–3 and 4–7 (`NMQ4_P0`, `NMQ4_P1`)
 * and the i16 sums Σ x of the gathered activations per byte-lane pair
 * (`NMQ4_SX`, i.e. per row). `relaxed_swizzle` (one pshufb) is exact: every
 * index is below 16. `relaxed_dot_i8x16_i7x16_s` (pmaddubsw) sums a row's two
 * slots into its i16 lane — codes 0–15 are valid i7 operands and a pair sum
 * is at most 2·127·15, so 8 groups (30480) fit before the sums are widened.
 */
@inline function nmq4StepRelaxed(w: usize, x: usize, hn: i32, m4: v128, ones: v128): void {
  // Σx as a dot with ones: V8 11.3 lowers extadd_pairwise_i8x16_s to the same pmaddubsw but reloads
  // its constant from memory every time (measured 6 % slower). m4 (0x0f) and ones come from the
  // descriptor's constant table (D_CONST).
  let p0 = i32x4.splat(0), p1 = i32x4.splat(0);
  let sx = i16x8.splat(0);
  for (let h: i32 = 0; h < hn; h++) {
    let p = i16x8.splat(0);
    for (let q: i32 = 0; q < 2; q++) {
      const mv = v128.load(w);
      const c0 = v128.load(w, 16);
      const c1 = v128.load(w, 32);
      const i01 = v128.and(mv, m4);
      const i23 = v128.and(i16x8.shr_u(mv, 4), m4);
      let g = i8x16.relaxed_swizzle(v128.load32_splat(x), i01);
      p = i16x8.add(p, i16x8.relaxed_dot_i8x16_i7x16_s(g, v128.and(c0, m4)));
      sx = i16x8.add(sx, i16x8.relaxed_dot_i8x16_i7x16_s(g, ones));
      g = i8x16.relaxed_swizzle(v128.load(x, 4), i01);
      p = i16x8.add(p, i16x8.relaxed_dot_i8x16_i7x16_s(g, v128.and(i16x8.shr_u(c0, 4), m4)));
      sx = i16x8.add(sx, i16x8.relaxed_dot_i8x16_i7x16_s(g, ones));
      g = i8x16.relaxed_swizzle(v128.load32_splat(x + 20), i23);
      p = i16x8.add(p, i16x8.relaxed_dot_i8x16_i7x16_s(g, v128.and(c1, m4)));
      sx = i16x8.add(sx, i16x8.relaxed_dot_i8x16_i7x16_s(g, ones));
      g = i8x16.relaxed_swizzle(v128.load(x, 24), i23);
      p = i16x8.add(p, i16x8.relaxed_dot_i8x16_i7x16_s(g, v128.and(i16x8.shr_u(c1, 4), m4)));
      sx = i16x8.add(sx, i16x8.relaxed_dot_i8x16_i7x16_s(g, ones));
      w += 48;
      x += 40;
    }
    p0 = i32x4.add(p0, i32x4.extend_low_i16x8_s(p));
    p1 = i32x4.add(p1, i32x4.extend_high_i16x8_s(p));
  }
  NMQ4_P0 = p0;
  NMQ4_P1 = p1;
  NMQ4_SX = sx;
}

/** NMQ4C gather of the vector in the low (`hi` false) or high nibbles of position vector `iv` from a chunk's activations `xv` (`relaxed_swizzle` is exact: positions < 16). */
@inline function nmq4cGather(xv: v128, iv: v128, m4: v128, hi: bool): v128 {
  const i = v128.and(hi ? i16x8.shr_u(iv, 4) : iv, m4);
  return ASC_FEATURE_RELAXED_SIMD ? i8x16.relaxed_swizzle(xv, i) : i8x16.swizzle(xv, i);
}

/** Codes 0–15 of the vector in the low or high nibbles of code vector `cv`, one per byte. */
@inline function nmq4cCodes(cv: v128, m4: v128, hi: bool): v128 {
  return v128.and(hi ? i16x8.shr_u(cv, 4) : cv, m4);
}

/**
 * Relaxed-SIMD NMQ4C sums of one position / code vector pair (gathers g0, g1;
 * code vector `cv`): Σ x·q per row-slot pair as i16 (`relaxed_dot_i8x16_i7x16_s`
 * is exact: codes 0–15, a pair sum at most 2·127·15).
 */
@inline function nmq4cDot(g0: v128, g1: v128, cv: v128, m4: v128): v128 {
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(g0, nmq4cCodes(cv, m4, false)), i16x8.relaxed_dot_i8x16_i7x16_s(g1, nmq4cCodes(cv, m4, true)));
}

/** Relaxed-SIMD Σ x of gathers g0, g1 per row-slot pair (the zero-point term), as i16. */
@inline function nmq4cSum(g0: v128, g1: v128, ones: v128): v128 {
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(g0, ones), i16x8.relaxed_dot_i8x16_i7x16_s(g1, ones));
}

/**
 * Relaxed-SIMD NMQ4C step (128 columns = 8 chunks of 16; V = 4: 1:2, 4:8, 8:16, or
 * V = 2: 1:4, 2:8, 4:16 vectors of 8 rows × 2 slots per chunk, laid out as V/2
 * position vectors then V/2 code vectors): results in NMQ4_P0, NMQ4_P1 (Σ x·q,
 * rows 0–3 and 4–7) and NMQ4_SX (Σ x per row), as nmq4StepRelaxed. The i16
 * sums of 32 columns (at most 8 pair sums of ≤ 2·127·15 per lane: ≤ 30480)
 * are widened per 32 columns; Σ x over the step is at most 32·254. Sums stay in
 * locals: accumulated in the result globals, V8 kept them in memory (a load
 * and a store per vector pair).
 */
@inline function nmq4cStepRelaxed(w: usize, x: usize, V: i32, hn: i32, m4: v128, ones: v128): void {
  let p0 = i32x4.splat(0), p1 = i32x4.splat(0);
  let sx = i16x8.splat(0);
  for (let h: i32 = 0; h < hn; h++) {
    let p = i16x8.splat(0);
    for (let c: i32 = 0; c < 2; c++) {
      const xv = v128.load(x);
      let iv = v128.load(w);
      let g0 = nmq4cGather(xv, iv, m4, false), g1 = nmq4cGather(xv, iv, m4, true);
      sx = i16x8.add(sx, nmq4cSum(g0, g1, ones));
      if (V == 4) {
        p = i16x8.add(p, nmq4cDot(g0, g1, v128.load(w, 32), m4));
        iv = v128.load(w, 16);
        g0 = nmq4cGather(xv, iv, m4, false);
        g1 = nmq4cGather(xv, iv, m4, true);
        sx = i16x8.add(sx, nmq4cSum(g0, g1, ones));
        p = i16x8.add(p, nmq4cDot(g0, g1, v128.load(w, 48), m4));
        w += 64;
      } else {
        p = i16x8.add(p, nmq4cDot(g0, g1, v128.load(w, 16), m4));
        w += 32;
      }
      x += 16;
    }
    p0 = i32x4.add(p0, i32x4.extend_low_i16x8_s(p));
    p1 = i32x4.add(p1, i32x4.extend_high_i16x8_s(p));
  }
  NMQ4_P0 = p0;
  NMQ4_P1 = p1;
  NMQ4_SX = sx;
}

/** Baseline Σ x·(q − z) of gather `g` and codes `c` for rows 0–3 (`lo`, zero-points `z` per i16 lane) or 4–7, as i32x4 (exact; the NMQ4 and NMQ4C baseline steps). */
@inline function nmq4BaseDot(g: v128, c: v128, z: v128, lo: bool): v128 {
  return lo
    ? i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(g), i16x8.sub(i16x8.extend_low_i8x16_u(c), z))
    : i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(g), i16x8.sub(i16x8.extend_high_i8x16_u(c), z));
}

/**
 * Baseline NMQ4C step (and the 8-bit one in both builds, `b8`): the gathered
 * activations widened to i16 times (q − z) (zero-points per i16 lane: `zl`
 * rows 0–3, `zh` rows 4–7), summed per row with i32x4.dot_i16x8_s into
 * NMQ4_P0 and NMQ4_P1 — exact (|q − z| ≤ 255, a pair sum ≤ 2·127·255), as the
 * relaxed build's Σ x·q − z·Σ x, so both builds give the same bits. Per
 * 16-column chunk: V/2 position vectors, then V/2 code vectors of nibbles or,
 * 8-bit, V byte vectors (16·V or 24·V bytes).
 */
@inline function nmq4cStepBase(w: usize, x: usize, V: i32, hn: i32, m4: v128, zl: v128, zh: v128, b8: bool): void {
  let p0 = i32x4.splat(0), p1 = i32x4.splat(0);
  const cb = <usize>(V << 3); // code vectors start after the V/2 position vectors
  for (let c: i32 = 0; c < 2 * hn; c++) {
    const xv = v128.load(x);
    for (let u: i32 = 0; u < V; u += 2) {
      const iv = v128.load(w + (<usize>u << 3));
      const cv = b8 ? i8x16.splat(0) : v128.load(w + cb + (<usize>u << 3));
      let g = nmq4cGather(xv, iv, m4, false);
      let q = b8 ? v128.load(w + cb + (<usize>u << 4)) : nmq4cCodes(cv, m4, false);
      p0 = i32x4.add(p0, nmq4BaseDot(g, q, zl, true));
      p1 = i32x4.add(p1, nmq4BaseDot(g, q, zh, false));
      g = nmq4cGather(xv, iv, m4, true);
      q = b8 ? v128.load(w + cb + (<usize>u << 4), 16) : nmq4cCodes(cv, m4, true);
      p0 = i32x4.add(p0, nmq4BaseDot(g, q, zl, true));
      p1 = i32x4.add(p1, nmq4BaseDot(g, q, zh, false));
    }
    w += <usize>(V * (b8 ? 24 : 16));
    x += 16;
  }
  NMQ4_P0 = p0;
  NMQ4_P1 = p1;
}

/** Bytes of one octet's 128-column step in the 2:4 + 8-bit stream: 8 × (16 B positions, 4 × 16 B codes). */
const NMQ8_STEP: usize = 640;

// Results of nmq4StepRelaxed (AssemblyScript functions return one value; these stay in registers once inlined).
let NMQ4_P0: v128 = i32x4.splat(0);
let NMQ4_P1: v128 = i32x4.splat(0);
let NMQ4_SX: v128 = i16x8.splat(0);

/**
 * 2:4 + 4-bit GEMV of rows [j0, j1), groups of 32, 64 or 128k columns, activations as
 * int8 per block of 128 columns (of the group, for groups of 32 or 64: a
 * kernel step is one block, so a group's scale and a block's meet once). The weights are one stream
 * (`packNMQ4Stream` in src/runtime/packed-weights.ts) of blocks of NMQ4_OB
 * octets (8 rows) → k-segments of whole groups (D_SEG columns) → octets →
 * groups: per group 64 bytes of statistics (8 f32 scales, 8 i32
 * zero-points), then per 128-column step 8 × 48 bytes — positions M, codes
 * C0, C1 — in which byte lane b is row
 * 8o + (b >> 1), kept slot (b & 1) of each 4-column group: bits [2f, 2f+2) of
 * M hold the slot's position in group 4q + f, C0's nibbles its codes in groups
 * 4q and 4q + 1, C1's in 4q + 2 and 4q + 3. Rows sit in lanes, so a group's 4
 * activations form a swizzle table whose one gather feeds 8 rows' both slots:
 * a gather per 16 kept slots with no per-row lookup. (The previous kernel
 * gathered along one row's slots, needing 2 table loads, 2 swizzles and a
 * blend per 16 slots: 0.6× the speed of the dense Q4 kernel.) One mask gives
 * the indices of two groups, `M & 15` = p(4q) + 4·p(4q+1) (and `(M >> 4) & 15`
 * the next two), because prepareActInt8 stores the activations of even groups
 * as 4 bytes, splatted into a period-4 table (byte i = x[i & 3]), and of odd
 * groups with each value repeated 4 times (byte i = x[i >> 2]).
 * Each row's integer sum Σ x·(q − z) per step is exact in both builds — the
 * baseline multiplies i16-widened activations with (q − z) directly, the
 * relaxed build subtracts z·Σx once per step — so results are bit-identical
 * between builds and thread counts (threads claim rows in chunks of quads; an
 * octet cut by two claims is computed for both, each storing its own rows). As
 * in gemvQ4, a thread reads one sequential stream while a segment's activation
 * tables (2.5 bytes per column, ≤ 10 KiB) stay in L1 for the block's octets;
 * in one pass over k = 11008 (27.5 KiB of tables) the kernel ran 1.2× slower.
 * The octets' f32 accumulators are parked in per-thread scratch between
 * segments, in the same order of operations as one pass.
 */
function gemvNMQ4(d: usize, j0: i32, j1: i32, scratch: usize): void {
  const k = <i32>dw(d, D_K);
  const n = <i32>dw(d, D_N);
  const gs = <i32>dw(d, D_GS);
  const G = k / gs;
  // Steps of min(gs, 128) columns (one activation block each), spg per group.
  const stepCols = min(gs, 128);
  const spg = gs / stepCols;
  // NMQ4C: N:M with M dividing 16, V = 8·N/M vectors per 16-column chunk (2 or 4).
  const V = dw(d, D_PATH) == PATH_NMQ4C ? (8 * <i32>dw(d, D_NN)) / <i32>dw(d, D_MM) : 0;
  const b8 = dw(d, D_BITS) == 8; // 8-bit codes as bytes: NMQ8_STEP per 128 columns (2:4), 24·V bytes per chunk (NMQ4C)
  const groupBytes = NMQ4_STAT + (V > 0 ? (<usize>gs * <usize>V * (b8 ? 3 : 2)) >> 1 : (<usize>gs * (b8 ? NMQ8_STEP : NMQ4_STEP)) / 128);
  const octetBytes = <usize>G * groupBytes;
  const gps = <i32>dw(d, D_SEG) / gs; // groups per k-segment
  const stream = <usize>dw(d, D_RCODES);
  const xq = <usize>dw(d, D_XQ);
  const xs = <usize>dw(d, D_XS);
  const out = <usize>dw(d, D_OUT);
  const nOct = (n + 7) >> 3;
  const o1 = (j1 + 7) >> 3;
  for (let oa = j0 >> 3; oa < o1; ) {
    const blk = oa / NMQ4_OB;
    const oe = min((blk + 1) * NMQ4_OB, o1);
    const nb = <usize>min(NMQ4_OB, nOct - blk * NMQ4_OB); // octets in this block
    const blockBase = stream + <usize>(blk * NMQ4_OB) * octetBytes;
    // Per octet 32 bytes of state: the f32 sums of rows 0–3 and 4–7.
    memory.fill(scratch, 0, <usize>(oe - oa) << 5);
    for (let t0: i32 = 0; t0 < G; t0 += gps) {
      const t1 = min(G, t0 + gps);
      const segBytes = <usize>(t1 - t0) * groupBytes;
      let w = blockBase + <usize>t0 * groupBytes * nb + <usize>(oa - blk * NMQ4_OB) * segBytes;
      const x = xq + (V > 0 ? <usize>(t0 * gs) : <usize>(t0 * gs >> 3) * 20);
      const sp = xs + (<usize>(t0 * spg) << 2);
      for (let o = oa; o < oe; o++, w += segBytes) {
        const st = scratch + (<usize>(o - oa) << 5);
        if (b8) nmq8Segment(d, w, x, sp, t1 - t0, spg, stepCols >> 5, V, st);
        else nmq4Segment(d, w, x, sp, t1 - t0, spg, stepCols >> 5, V, st);
      }
    }
    for (let o = oa; o < oe; o++) {
      const st = scratch + (<usize>(o - oa) << 5);
      storeOctetRow(out, o << 3, j0, j1, v128.load(st), v128.load(st, 16));
    }
    oa = oe;
  }
}

/**
 * One octet's k-segment of the NMQ4 GEMV: `groups` groups of `spg` steps of
 * `hn` × 32 columns (128, or the whole group of 32 / 64) from `w`, activation
 * tables from `x`, activation block scales (one per step) from `sp`; the
 * octet's two f32x4 sums are continued from / saved to `state`. 4-bit codes
 * (nmq4Segment) and 8-bit ones (nmq8Segment) are separate functions, each
 * with the other's branches compiled out.
 */
function nmq4Segment(d: usize, w: usize, x: usize, sp: usize, groups: i32, spg: i32, hn: i32, V: i32, state: usize): void {
  nmqSegment(d, w, x, sp, groups, spg, hn, V, false, state);
}

/** nmq4Segment for 8-bit codes held as bytes (the baseline steps, in both builds). */
function nmq8Segment(d: usize, w: usize, x: usize, sp: usize, groups: i32, spg: i32, hn: i32, V: i32, state: usize): void {
  nmqSegment(d, w, x, sp, groups, spg, hn, V, true, state);
}

/** The body of nmq4Segment / nmq8Segment (`b8` a constant in each). */
@inline function nmqSegment(d: usize, w: usize, x: usize, sp: usize, groups: i32, spg: i32, hn: i32, V: i32, b8: bool, state: usize): void {
  const m4 = cv(d, C_0F), ones = cv(d, C_01);
  let f0 = v128.load(state), f1 = v128.load(state, 16);
  for (let t: i32 = 0; t < groups; t++) {
    const sw0 = v128.load(w), sw1 = v128.load(w, 16);
    const z0 = v128.load(w, 32), z1 = v128.load(w, 48);
    // Baseline build and 8-bit codes: zero-points per i16 lane (both slots of a row), rows 0–3 and 4–7.
    const zl = ASC_FEATURE_RELAXED_SIMD && !b8 ? z0 : i8x16.shuffle(z0, z0, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13);
    const zh = ASC_FEATURE_RELAXED_SIMD && !b8 ? z1 : i8x16.shuffle(z1, z1, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13);
    w += NMQ4_STAT;
    for (let step: i32 = 0; step < spg; step++) {
      let a0: v128, a1: v128; // Σ x·(q − z), rows 0–3 and 4–7
      if (V > 0) {
        // NMQ4C: one step of 8 chunks × V vectors.
        if (ASC_FEATURE_RELAXED_SIMD && !b8) {
          nmq4cStepRelaxed(w, x, V, hn, m4, ones);
          a0 = i32x4.sub(NMQ4_P0, i32x4.mul(z0, i32x4.extend_low_i16x8_s(NMQ4_SX)));
          a1 = i32x4.sub(NMQ4_P1, i32x4.mul(z1, i32x4.extend_high_i16x8_s(NMQ4_SX)));
        } else {
          nmq4cStepBase(w, x, V, hn, m4, zl, zh, b8);
          a0 = NMQ4_P0;
          a1 = NMQ4_P1;
        }
        w += (<usize>((V * hn) << 5) * (b8 ? 3 : 2)) >> 1;
        x += <usize>(hn << 5);
      } else {
        if (ASC_FEATURE_RELAXED_SIMD && !b8) {
          nmq4StepRelaxed(w, x, hn, m4, ones);
          a0 = i32x4.sub(NMQ4_P0, i32x4.mul(z0, i32x4.extend_low_i16x8_s(NMQ4_SX)));
          a1 = i32x4.sub(NMQ4_P1, i32x4.mul(z1, i32x4.extend_high_i16x8_s(NMQ4_SX)));
        } else {
          // Baseline 2:4 + 4-bit, and 2:4 + 8-bit in both builds: Σ x·(q − z) per row by i32x4.dot_i16x8_s on the
          // i16-widened gather and q − z (nmq4BaseDot; exact: |q − z| ≤ 255). Per 16 columns the positions M, then
          // the codes of its 4 groups: nibbles of C0, C1 (48 bytes), or one byte vector per group (80 bytes; codes
          // up to 255 are not valid 7-bit operands of the relaxed dot). Written in this loop, not as a step function
          // returning through globals: that form ran the 4-bit baseline GEMV 5–11 % slower.
          a0 = i32x4.splat(0);
          a1 = i32x4.splat(0);
          let ww = w, xx = x;
          for (let q: i32 = 0; q < 2 * hn; q++) {
            const mv = v128.load(ww);
            const c0 = v128.load(ww, 16);
            const c1 = v128.load(ww, 32);
            const i01 = v128.and(mv, m4);
            const i23 = v128.and(i16x8.shr_u(mv, 4), m4);
            let g = swz(v128.load32_splat(xx), i01);
            let c = b8 ? c0 : v128.and(c0, m4);
            a0 = i32x4.add(a0, nmq4BaseDot(g, c, zl, true));
            a1 = i32x4.add(a1, nmq4BaseDot(g, c, zh, false));
            g = swz(v128.load(xx, 4), i01);
            c = b8 ? c1 : v128.and(i16x8.shr_u(c0, 4), m4);
            a0 = i32x4.add(a0, nmq4BaseDot(g, c, zl, true));
            a1 = i32x4.add(a1, nmq4BaseDot(g, c, zh, false));
            g = swz(v128.load32_splat(xx + 20), i23);
            c = b8 ? v128.load(ww, 48) : v128.and(c1, m4);
            a0 = i32x4.add(a0, nmq4BaseDot(g, c, zl, true));
            a1 = i32x4.add(a1, nmq4BaseDot(g, c, zh, false));
            g = swz(v128.load(xx, 24), i23);
            c = b8 ? v128.load(ww, 64) : v128.and(i16x8.shr_u(c1, 4), m4);
            a0 = i32x4.add(a0, nmq4BaseDot(g, c, zl, true));
            a1 = i32x4.add(a1, nmq4BaseDot(g, c, zh, false));
            ww += b8 ? 80 : 48;
            xx += 40;
          }
        }
        w += <usize>hn * ((b8 ? NMQ8_STEP : NMQ4_STEP) >> 2);
        x += <usize>hn * 80;
      }
      const sx = f32x4.splat(load<f32>(sp));
      sp += 4;
      f0 = f32x4.add(f0, f32x4.mul(f32x4.convert_i32x4_s(a0), f32x4.mul(sw0, sx)));
      f1 = f32x4.add(f1, f32x4.mul(f32x4.convert_i32x4_s(a1), f32x4.mul(sw1, sx)));
    }
  }
  v128.store(state, f0);
  v128.store(state, f1, 16);
}

// ---------------------------------------------------------------------------
// Sparse 2:4 GEMM (batches from 6, see packedPath): half the multiply-adds of the dense GEMM; up to m = 8 on the low half of a panel.

/**
 * Transposes a [m, k] into panels of 16 rows (main thread, once per call):
 * P[s][c][r] = a[16s + r][c], rows past m zero. One column of a panel is one
 * 64-byte line: the 16 activations a kept weight multiplies.
 */
export function preparePanels(d: usize): void {
  const m = <i32>dw(d, D_M);
  const k = <i32>dw(d, D_K);
  const a = <usize>dw(d, D_A);
  const p = <usize>dw(d, D_PANEL);
  const strips = (m + 15) >> 4;
  for (let s: i32 = 0; s < strips; s++) {
    const ps = p + ((<usize>s * <usize>k) << 6);
    for (let r: i32 = 0; r < 16; r++) {
      const i = (s << 4) + r;
      if (i < m) {
        const ai = a + ((<usize>i * <usize>k) << 2);
        for (let c: i32 = 0; c < k; c++) store<f32>(ps + (<usize>c << 6) + (<usize>r << 2), load<f32>(ai + (<usize>c << 2)));
      } else {
        for (let c: i32 = 0; c < k; c++) store<f32>(ps + (<usize>c << 6) + (<usize>r << 2), 0);
      }
    }
  }
}

@inline function storeCol16(o: usize, ldo: usize, rows: i32, c0: v128, c1: v128, c2: v128, c3: v128): void {
  // Lanes must be constants: unrolled, stopping at the strip's valid rows.
  store<f32>(o, f32x4.extract_lane(c0, 0)); if (rows == 1) return;
  store<f32>(o + ldo, f32x4.extract_lane(c0, 1)); if (rows == 2) return;
  store<f32>(o + 2 * ldo, f32x4.extract_lane(c0, 2)); if (rows == 3) return;
  store<f32>(o + 3 * ldo, f32x4.extract_lane(c0, 3)); if (rows == 4) return;
  store<f32>(o + 4 * ldo, f32x4.extract_lane(c1, 0)); if (rows == 5) return;
  store<f32>(o + 5 * ldo, f32x4.extract_lane(c1, 1)); if (rows == 6) return;
  store<f32>(o + 6 * ldo, f32x4.extract_lane(c1, 2)); if (rows == 7) return;
  store<f32>(o + 7 * ldo, f32x4.extract_lane(c1, 3)); if (rows == 8) return;
  store<f32>(o + 8 * ldo, f32x4.extract_lane(c2, 0)); if (rows == 9) return;
  store<f32>(o + 9 * ldo, f32x4.extract_lane(c2, 1)); if (rows == 10) return;
  store<f32>(o + 10 * ldo, f32x4.extract_lane(c2, 2)); if (rows == 11) return;
  store<f32>(o + 11 * ldo, f32x4.extract_lane(c2, 3)); if (rows == 12) return;
  store<f32>(o + 12 * ldo, f32x4.extract_lane(c3, 0)); if (rows == 13) return;
  store<f32>(o + 13 * ldo, f32x4.extract_lane(c3, 1)); if (rows == 14) return;
  store<f32>(o + 14 * ldo, f32x4.extract_lane(c3, 2)); if (rows == 15) return;
  store<f32>(o + 15 * ldo, f32x4.extract_lane(c3, 3));
}

/**
 * Splits a 2:4 row's §3 index bytes [0, n) (one per 8 columns, 2 position bits
 * per kept slot) into one byte per 4-column group at `dst` (2n bytes): the
 * group's nibble shifted left by 4, so the tiles read a slot's panel offset
 * with one mask (second slot: `x & 0xc0`) or a shift and a mask (first:
 * `(x << 2) & 0xc0`). With a byte per group the tiles step two kept values
 * at a time without unpacking nibbles (see tileSp24Pair).
 */
function splitGroups(src: usize, dst: usize, n: i32): void {
  let i: i32 = 0;
  for (; i + 16 <= n; i += 16) {
    const b = v128.load(src + <usize>i);
    const lo = i8x16.shl(b, 4), hi = v128.and(b, i8x16.splat(<i8>0xf0));
    const o = dst + (<usize>i << 1);
    v128.store(o, i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    v128.store(o, i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), 16);
  }
  for (; i < n; i++) {
    const x = load<u8>(src + <usize>i);
    store<u8>(dst + (<usize>i << 1), <u8>(x << 4));
    store<u8>(dst + (<usize>i << 1) + 1, x & 0xf0);
  }
}

/**
 * 16 rows of a (one panel) × 2 rows of a 2:4 weight (A and B) over `groups`
 * 4-column groups: each kept value is broadcast and multiplied with its
 * column's 64-byte panel line, 8 f32x4 accumulators continued from / saved
 * to the 64-byte tile slots ta, tb (multiply-adds: gemmMadd). Runs only a
 * last odd panel; tileSp24Pair takes the others, with the same operations per
 * accumulator in the same order. Group bytes `ga`, `gb` as splitGroups writes
 * them. A row's consecutive kept values are 16 bytes apart: quads of 4 rows
 * interleaved, the 2:4 f32 layout of the GEMV (a run-time stride, to also
 * read row-major values, measured 4–8 % slower).
 */
function tileSp24(p: usize, ga: usize, va: usize, gb: usize, vb: usize, groups: i32, ta: usize, tb: usize): void {
  let a0 = v128.load(ta), a1 = v128.load(ta, 16), a2 = v128.load(ta, 32), a3 = v128.load(ta, 48);
  let b0 = v128.load(tb), b1 = v128.load(tb, 16), b2 = v128.load(tb, 32), b3 = v128.load(tb, 48);
  for (const ge = ga + <usize>groups; ga < ge; ga++, gb++) {
    const xa = <usize>load<u8>(ga);
    const xb = <usize>load<u8>(gb);
    let q = p + ((xa << 2) & 0xc0);
    let v = v128.load32_splat(va);
    a0 = gemmMadd(a0, v, v128.load(q));
    a1 = gemmMadd(a1, v, v128.load(q, 16));
    a2 = gemmMadd(a2, v, v128.load(q, 32));
    a3 = gemmMadd(a3, v, v128.load(q, 48));
    q = p + ((xb << 2) & 0xc0);
    v = v128.load32_splat(vb);
    b0 = gemmMadd(b0, v, v128.load(q));
    b1 = gemmMadd(b1, v, v128.load(q, 16));
    b2 = gemmMadd(b2, v, v128.load(q, 32));
    b3 = gemmMadd(b3, v, v128.load(q, 48));
    q = p + (xa & 0xc0);
    v = v128.load32_splat(va, 16);
    a0 = gemmMadd(a0, v, v128.load(q));
    a1 = gemmMadd(a1, v, v128.load(q, 16));
    a2 = gemmMadd(a2, v, v128.load(q, 32));
    a3 = gemmMadd(a3, v, v128.load(q, 48));
    q = p + (xb & 0xc0);
    v = v128.load32_splat(vb, 16);
    b0 = gemmMadd(b0, v, v128.load(q));
    b1 = gemmMadd(b1, v, v128.load(q, 16));
    b2 = gemmMadd(b2, v, v128.load(q, 32));
    b3 = gemmMadd(b3, v, v128.load(q, 48));
    va += 32;
    vb += 32;
    p += 256;
  }
  v128.store(ta, a0); v128.store(ta, a1, 16); v128.store(ta, a2, 32); v128.store(ta, a3, 48);
  v128.store(tb, b0); v128.store(tb, b1, 16); v128.store(tb, b2, 32); v128.store(tb, b3, 48);
}

/**
 * 8 rows of a (the low half of one 16-row panel: batches of up to 8) × the 4
 * rows of one quad of a 2:4 weight over `groups` 4-column groups: group bytes
 * of row i at `g` + i·`gs` (splitGroups), kept values in the quad layout from
 * `v` (row i's at +4·i), 8 f32x4 accumulators continued from / saved to the
 * first 32 bytes of the rows' tile slots (`t` + 64·i). The 16-row tiles spend
 * half their multiply-adds on the panel's zero rows at such batches. Each
 * accumulator takes the same operations in the same order as in the other
 * 2:4 tiles, so results do not depend on which tile ran.
 */
function tileSp24Half(p: usize, g: usize, gs: usize, v: usize, groups: i32, t: usize): void {
  let a0 = v128.load(t), a1 = v128.load(t, 16), b0 = v128.load(t, 64), b1 = v128.load(t, 80);
  let c0 = v128.load(t, 128), c1 = v128.load(t, 144), e0 = v128.load(t, 192), e1 = v128.load(t, 208);
  for (const ge = g + <usize>groups; g < ge; g++) {
    const w = v;
    v += 32;
    let x = <usize>load<u8>(g);
    let q = p + ((x << 2) & 0xc0), Q = p + (x & 0xc0);
    let s = v128.load32_splat(w), S = v128.load32_splat(w, 16);
    a0 = gemmMadd(a0, s, v128.load(q));
    a0 = gemmMadd(a0, S, v128.load(Q));
    a1 = gemmMadd(a1, s, v128.load(q, 16));
    a1 = gemmMadd(a1, S, v128.load(Q, 16));
    x = <usize>load<u8>(g + gs);
    q = p + ((x << 2) & 0xc0);
    Q = p + (x & 0xc0);
    s = v128.load32_splat(w, 4);
    S = v128.load32_splat(w, 20);
    b0 = gemmMadd(b0, s, v128.load(q));
    b0 = gemmMadd(b0, S, v128.load(Q));
    b1 = gemmMadd(b1, s, v128.load(q, 16));
    b1 = gemmMadd(b1, S, v128.load(Q, 16));
    x = <usize>load<u8>(g + 2 * gs);
    q = p + ((x << 2) & 0xc0);
    Q = p + (x & 0xc0);
    s = v128.load32_splat(w, 8);
    S = v128.load32_splat(w, 24);
    c0 = gemmMadd(c0, s, v128.load(q));
    c0 = gemmMadd(c0, S, v128.load(Q));
    c1 = gemmMadd(c1, s, v128.load(q, 16));
    c1 = gemmMadd(c1, S, v128.load(Q, 16));
    x = <usize>load<u8>(g + 3 * gs);
    q = p + ((x << 2) & 0xc0);
    Q = p + (x & 0xc0);
    s = v128.load32_splat(w, 12);
    S = v128.load32_splat(w, 28);
    e0 = gemmMadd(e0, s, v128.load(q));
    e0 = gemmMadd(e0, S, v128.load(Q));
    e1 = gemmMadd(e1, s, v128.load(q, 16));
    e1 = gemmMadd(e1, S, v128.load(Q, 16));
    p += 256;
  }
  v128.store(t, a0); v128.store(t, a1, 16); v128.store(t, b0, 64); v128.store(t, b1, 80);
  v128.store(t, c0, 128); v128.store(t, c1, 144); v128.store(t, e0, 192); v128.store(t, e1, 208);
}

/**
 * 32 rows of a (two panels, `ps` bytes apart) × 1 row of a 2:4 weight over
 * `groups` 4-column groups: as tileSp24, but each kept value's broadcast feeds
 * 8 multiply-adds instead of 4, 8 f32x4 accumulators continued from / saved
 * to the 64-byte tile slots t0 (panel 0) and t1 (panel 1). Each accumulator
 * takes the same operations in the same order as in tileSp24, so the two
 * tiles give identical results.
 *
 * One group (2 kept values) per step, its panel offsets from one byte of
 * splitGroups. With 4 kept values per step (a §3 index byte) V8 chained each
 * accumulator's 4 multiply-adds and spilled two accumulators to the stack
 * every step: in an L1-resident micro-benchmark that tile ran at 62 % of the
 * dense 4 × 2 tile's multiply-add rate, this one at 76 %. (Three panels,
 * 12 accumulators, measured 0.86–1.0× the 4-value tile: V8 runs out of
 * registers.) The loop advances its group and value pointers; rebuilt from
 * the step index each step, they cost V8 more scalar instructions than the
 * loads need (the six sparse tiles: 1.00–1.08× at batch 128, A/B).
 */
function tileSp24Pair(p: usize, ps: usize, g: usize, va: usize, groups: i32, t0: usize, t1: usize): void {
  let a0 = v128.load(t0), a1 = v128.load(t0, 16), a2 = v128.load(t0, 32), a3 = v128.load(t0, 48);
  let b0 = v128.load(t1), b1 = v128.load(t1, 16), b2 = v128.load(t1, 32), b3 = v128.load(t1, 48);
  for (const ge = g + <usize>groups; g < ge; g++) {
    const x = <usize>load<u8>(g);
    const q = p + ((x << 2) & 0xc0), Q = p + (x & 0xc0);
    const r = q + ps, R = Q + ps;
    const v = v128.load32_splat(va), V = v128.load32_splat(va, 16);
    va += 32;
    a0 = gemmMadd(a0, v, v128.load(q));
    a0 = gemmMadd(a0, V, v128.load(Q));
    a1 = gemmMadd(a1, v, v128.load(q, 16));
    a1 = gemmMadd(a1, V, v128.load(Q, 16));
    a2 = gemmMadd(a2, v, v128.load(q, 32));
    a2 = gemmMadd(a2, V, v128.load(Q, 32));
    a3 = gemmMadd(a3, v, v128.load(q, 48));
    a3 = gemmMadd(a3, V, v128.load(Q, 48));
    b0 = gemmMadd(b0, v, v128.load(r));
    b0 = gemmMadd(b0, V, v128.load(R));
    b1 = gemmMadd(b1, v, v128.load(r, 16));
    b1 = gemmMadd(b1, V, v128.load(R, 16));
    b2 = gemmMadd(b2, v, v128.load(r, 32));
    b2 = gemmMadd(b2, V, v128.load(R, 32));
    b3 = gemmMadd(b3, v, v128.load(r, 48));
    b3 = gemmMadd(b3, V, v128.load(R, 48));
    p += 256;
  }
  v128.store(t0, a0); v128.store(t0, a1, 16); v128.store(t0, a2, 32); v128.store(t0, a3, 48);
  v128.store(t1, b0); v128.store(t1, b1, 16); v128.store(t1, b2, 32); v128.store(t1, b3, 48);
}

/**
 * Stores the sparse GEMMs' tile buffer for weight rows [jb, je): per row one
 * 64-byte slot (16 outputs) for each of the `strips` 16-row panels of a (slot
 * of row j, panel h at tiles + ((j − jb)·strips + h)·64), into columns
 * jb … je−1 of `out` (rows past m skipped).
 */
function storeTiles(tiles: usize, strips: i32, m: i32, jb: i32, je: i32, out: usize, ldo: usize): void {
  for (let h: i32 = 0; h < strips; h++) {
    const rows = min(16, m - (h << 4));
    const o = out + <usize>(h << 4) * ldo;
    for (let j = jb; j < je; j++) {
      const t = tiles + (<usize>((j - jb) * strips + h) << 6);
      storeCol16(o + (<usize>j << 2), ldo, rows, v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48));
    }
  }
}

/**
 * Dequantizes kept values [s0, s1) of row r of a §4 weight into dst [L] f32
 * (compressed order; dst is the row's slot 0, so value s lands at dst + 4s):
 * group by group, a group cut by the range decoded in part.
 */
function decodeKeptValues(d: usize, r: i32, dst: usize, s0: i32, s1: i32): void {
  const k = <i32>dw(d, D_K);
  const gs = <i32>dw(d, D_GS);
  const G = k / gs;
  const n = <i32>dw(d, D_NN);
  const m = <i32>dw(d, D_MM);
  const spg = (gs / m) * n;
  const bits = <i32>dw(d, D_BITS);
  const mask: u32 = (1 << bits) - 1;
  const row = <usize>dw(d, D_CODES) + <usize>r * <usize>dw(d, D_CODE_ROW);
  const sp = <usize>dw(d, D_SCALE) + ((<usize>r * <usize>G) << 3);
  const zp = <usize>dw(d, D_ZERO) + ((<usize>r * <usize>G) << 3);
  for (let t: i32 = s0 / spg; t < G && t * spg < s1; t++) {
    const a = max(s0, t * spg);
    const b = min(s1, (t + 1) * spg);
    decodeSpan(row, a, b - a, bits, mask, load<f32>(sp + (<usize>t << 3)), load<f32>(zp + (<usize>t << 3)), true, dst + (<usize>a << 2));
  }
}

/** Row j's first kept value in a block's decoded §4 values (quads of 4 rows from row jb, `vstride` bytes per row). */
@inline function decRow(dec: usize, jb: i32, j: i32, vstride: usize): usize {
  return dec + <usize>((j - jb) >> 2) * (vstride << 2) + (<usize>(j & 3) << 2);
}

/**
 * Decodes kept values [s0, s1) of rows [jb, je) of a §4 weight into `dec` in
 * the 2:4 f32 quad layout (rows of a quad interleaved, value s of a row 16·s
 * bytes after its first; a last partial quad padded with zeros): each quad is
 * decoded row by row into `tmp` (4 rows), then transposed 4 × 4 floats at a
 * time. s0 is a multiple of 4.
 */
function decodeKeptQuads(d: usize, jb: i32, je: i32, s0: i32, s1: i32, dec: usize, tmp: usize, vstride: usize): void {
  for (let j = jb; j < je; j += 4) {
    const rows = min(4, je - j);
    for (let r: i32 = 0; r < 4; r++) {
      if (r < rows) decodeKeptValues(d, j + r, tmp + <usize>r * vstride, s0, s1);
      else memory.fill(tmp + <usize>r * vstride + (<usize>s0 << 2), 0, <usize>(s1 - s0) << 2);
    }
    const q = dec + <usize>((j - jb) >> 2) * (vstride << 2);
    for (let o: usize = <usize>s0 << 2; o < <usize>s1 << 2; o += 16) {
      const r0 = v128.load(tmp + o), r1 = v128.load(tmp + vstride + o);
      const r2 = v128.load(tmp + 2 * vstride + o), r3 = v128.load(tmp + 3 * vstride + o);
      const t0 = i8x16.shuffle(r0, r1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
      const t1 = i8x16.shuffle(r0, r1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
      const t2 = i8x16.shuffle(r2, r3, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
      const t3 = i8x16.shuffle(r2, r3, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
      const p = q + (o << 2);
      v128.store(p, i8x16.shuffle(t0, t2, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
      v128.store(p, i8x16.shuffle(t0, t2, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31), 16);
      v128.store(p, i8x16.shuffle(t1, t3, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), 32);
      v128.store(p, i8x16.shuffle(t1, t3, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31), 48);
    }
  }
}

/**
 * Columns per k-block of the sparse GEMM: the two panels' 8 KiB blocks plus the
 * block's values stay in L1. The panels are k·64 bytes apart, a multiple of
 * 4 KiB, so their blocks share L1 sets: with 256 columns (2 × 16 KiB, every way
 * of those sets) the two-panel tile was no faster (A/B, relaxed build: 1.00–1.07×
 * the previous single-panel kernel, against 1.06–1.21× with 128).
 */
const SPKB: i32 = 128;

/**
 * Weight rows per sub-block of the sparse GEMMs (SB in src/kernels/matmul-packed.ts): their tiles, one
 * 64-byte slot per row and 16-row panel, stay in the thread's scratch across the k-chunks.
 */
const SB: i32 = 128;

/**
 * Bytes of a's panels per k-chunk of the sparse GEMMs: they stay in L2 while a sub-block's SB weight rows
 * pass over them. Without chunks every RB weight rows re-read all panels (m·k·4 bytes: 5.6 MB at batch
 * 128, k = 11008) from L3. Half of a 1 MiB L2 (AMD Zen 4 / 5), leaving room for the weights streaming
 * through. A/B at batch 128 (relaxed build, 2 threads): 1.01–1.05× faster than 1 MiB chunks for 2:4, 4:8
 * and 2:4 + INT4, bit-identical; 256 KiB chunks 1.00–1.04× faster than 1 MiB on 2:4.
 */
const PANEL_CHUNK: i32 = 1 << 19;

/** Columns per k-chunk of the sparse GEMMs for `strips` 16-row panels: whole SPKB blocks, about PANEL_CHUNK bytes of panels. */
@inline function spChunk(strips: i32): i32 {
  return max(SPKB, (PANEL_CHUNK / (strips << 6)) & ~(SPKB - 1));
}

/** Tile slot of weight row j and panel s in a sub-block from row sb (see storeTiles). */
@inline function tileAt(tiles: usize, sb: i32, j: i32, strips: i32, s: i32): usize {
  return tiles + (<usize>((j - sb) * strips + s) << 6);
}

/**
 * Sparse 2:4 GEMM of rows [j0, j1), in sub-blocks of SB weight rows whose
 * tiles (every panel) live in the thread's scratch: for each k-chunk
 * (spChunk: its panels stay in L2), blocks of RB weight rows (values of §4
 * decoded to f32 and every row's §3 index bytes split into group bytes,
 * splitGroups, for the chunk first); for each pair of 16-row panels of a,
 * k-blocks of SPKB columns × one weight row at a time (tileSp24Pair; a last
 * odd panel: tiles of 2 weight rows, tileSp24) accumulate into the tiles,
 * stored to `out` once per sub-block. Every output is one accumulator chain
 * over its row's kept slots in order, the same in both tiles and continued
 * through the tile slot across blocks and chunks, so neither the thread split
 * nor the batch's panel count changes results. (The pair tile halves the
 * broadcasts and index arithmetic per multiply-add; with the fused
 * multiply-add of the relaxed build the kernel ran 1.06–1.13× faster for 2:4
 * and 1.14–1.20× for 2:4 + INT4, in the baseline build 0.99–1.10×.)
 */
function gemmSp24(d: usize, j0: i32, j1: i32, scratch: usize): void {
  const m = <i32>dw(d, D_M);
  const k = <i32>dw(d, D_K);
  const n = <i32>dw(d, D_N);
  const L = k >> 1;
  const quant = dw(d, D_KIND) == KIND_NMQ;
  const idx = <usize>dw(d, D_IDX);
  const idxRow = <usize>dw(d, D_IDX_ROW);
  const panel = <usize>dw(d, D_PANEL);
  const out = <usize>dw(d, D_OUT);
  const ldo = <usize>n << 2;
  const strips = (m + 15) >> 4;
  const kcs = spChunk(strips);
  const ps = <usize>k << 6; // bytes per panel
  const ts = <usize>strips << 6; // bytes per weight row of tiles
  const vstride = <usize>L << 2;
  const tiles = scratch; // SB·strips 64-byte slots
  const spare = tiles + <usize>SB * ts; // the odd last row's second tile row (tileSp24)
  const gstride = <usize>k >> 2; // group bytes per row (splitGroups)
  const groups = spare + 64; // RB rows of group bytes, each row's chunk at its own columns
  const dec = groups + ((<usize>RB * gstride + 63) & ~63); // §4: RB rows of kept values, in quads as the 2:4 f32 layout
  const tmp = dec + <usize>RB * vstride; // §4: one quad decoded row by row
  for (let sb = j0; sb < j1; sb += SB) {
    const se = min(sb + SB, j1);
    memory.fill(tiles, 0, <usize>(se - sb) * ts);
    for (let kc: i32 = 0; kc < k; kc += kcs) {
      const ke = min(k, kc + kcs);
      for (let jb = sb; jb < se; jb += RB) {
        const je = min(jb + RB, se);
        if (quant) decodeKeptQuads(d, jb, je, kc >> 1, ke >> 1, dec, tmp, vstride);
        for (let j = jb; j < je; j++) {
          splitGroups(idx + <usize>j * idxRow + <usize>(kc >> 3), groups + <usize>(j - jb) * gstride + <usize>(kc >> 2), (ke - kc) >> 3);
        }
        for (let s: i32 = 0; s < strips; s += 2) {
          const p = panel + <usize>s * ps;
          const pair = s + 2 <= strips; // tileSp24Pair, or tileSp24 for a last odd panel
          for (let kb = kc; kb < ke; kb += SPKB) {
            const ng = min(SPKB, ke - kb) >> 2;
            const pk = p + (<usize>kb << 6);
            const go = groups + <usize>(kb >> 2);
            const vo = <usize>(kb >> 1) << 4;
            let j = jb;
            if (pair) {
              for (; j < je; j++) {
                const v = quant ? decRow(dec, jb, j, vstride) : keptRow(d, j);
                const t = tileAt(tiles, sb, j, strips, s);
                const g = go + <usize>(j - jb) * gstride;
                // Two call sites (whole and a chunk's last partial k-block) keep binaryen from inlining the
                // tile into this loop nest, where V8 spilled its accumulators (0.66× in A/B).
                if (ng == SPKB >> 2) tileSp24Pair(pk, ps, g, v + vo, SPKB >> 2, t, t + 64);
                else tileSp24Pair(pk, ps, g, v + vo, ng, t, t + 64);
              }
              continue;
            }
            if (m <= 8) {
              // Batches of up to 8: whole quads on the panel's low half (tileSp24Half); rows from jb are in quads.
              for (; j + 4 <= je; j += 4) {
                const v = quant ? decRow(dec, jb, j, vstride) : keptRow(d, j);
                const t = tileAt(tiles, sb, j, strips, s);
                const g = go + <usize>(j - jb) * gstride;
                // Two call sites (whole and partial k-blocks): see above.
                if (ng == SPKB >> 2) tileSp24Half(pk, g, gstride, v + vo, SPKB >> 2, t);
                else tileSp24Half(pk, g, gstride, v + vo, ng, t);
              }
            }
            for (; j + 2 <= je; j += 2) {
              const v = quant ? decRow(dec, jb, j, vstride) : keptRow(d, j);
              const v1 = quant ? decRow(dec, jb, j + 1, vstride) : keptRow(d, j + 1);
              const t = tileAt(tiles, sb, j, strips, s);
              tileSp24(pk, go + <usize>(j - jb) * gstride, v + vo, go + <usize>(j + 1 - jb) * gstride, v1 + vo, ng, t, t + ts);
            }
            if (j < je) {
              const v = (quant ? decRow(dec, jb, j, vstride) : keptRow(d, j)) + vo;
              // The odd last row runs as both tile rows; the second copy lands in the spare slot.
              const gj = go + <usize>(j - jb) * gstride;
              tileSp24(pk, gj, v, gj, v, ng, tileAt(tiles, sb, j, strips, s), spare);
            }
          }
        }
      }
    }
    storeTiles(tiles, strips, m, sb, se, out, ldo);
  }
}

// ---------------------------------------------------------------------------
// Any N:M but 2:4, M dividing 128 (kept-slot column bytes, D_KPOS; tiles and gather in nm-gather.ts).

/** Row j's kept values as f32, row-major: the uploaded values (§3), or decoded from the codes into `dst` (§4). */
@inline function keptValues(d: usize, j: i32, quant: bool, dst: usize): usize {
  if (!quant) return keptRow(d, j);
  decodeKeptValues(d, j, dst, 0, (<i32>dw(d, D_K) / <i32>dw(d, D_MM)) * <i32>dw(d, D_NN));
  return dst;
}

/**
 * Any-N:M GEMV of rows [j0, j1): per row, the kept values (§4: decoded exactly
 * into the thread's scratch row first) against the activations gathered by
 * column byte (gatherDot; f32 rows 4 at a time, gatherDotX4; 4:8 f32 with two
 * swizzles per 4 kept slots, nm48DotX4 / nm48Dot; A/B against the gather in
 * docs/benchmarks/cpu-log.md). Reads the values
 * and 1 byte of column per kept slot instead of the dense row, with no per-row
 * decode into a dense scratch row (the generic path scattered every row into k floats and ran
 * the dense dot: 0.16× dense f32 for 4:8).
 */
function gemvNMGather(d: usize, j0: i32, j1: i32, scratch: usize): void {
  const k = <i32>dw(d, D_K);
  const nn = <i32>dw(d, D_NN);
  const mm = <i32>dw(d, D_MM);
  const L = (k / mm) * nn;
  const x = <usize>dw(d, D_A);
  const out = <usize>dw(d, D_OUT);
  const kpos = <usize>dw(d, D_KPOS);
  const quant = dw(d, D_KIND) == KIND_NMQ;
  const spb = (128 / mm) * nn;
  let j = j0;
  if (!quant && nn == 4 && mm == 8) {
    // 4:8 f32: two-table swizzle gathers (nm48.ts), 4 rows a quarter of the range apart at once.
    const cst = d + D_CONST; // the whole table: nm48.ts reads C_J, C_0F, C_80, C_NM48
    const share = (j1 - j0) >> 2;
    const dp = <usize>share * <usize>L;
    for (let i: i32 = 0; i < share; i++) {
      const r = j0 + i;
      nm48DotX4(x, kpos + <usize>r * <usize>L, dp, keptRow(d, r), dp << 2, k, cst, out + (<usize>r << 2), <usize>share << 2, scratch);
    }
    for (j = j0 + (share << 2); j < j1; j++) store<f32>(out + (<usize>j << 2), nm48Dot(x, kpos + <usize>j * <usize>L, keptRow(d, j), k, cst));
    return;
  }
  if (!quant) {
    // f32 values: 4 rows a quarter of the range apart at once, for more streams in flight (§4 rows decode one at a time).
    const share = (j1 - j0) >> 2;
    const dp = <usize>share * <usize>L;
    for (let i: i32 = 0; i < share; i++) {
      const r = j0 + i;
      gatherDotX4(x, kpos + <usize>r * <usize>L, dp, keptRow(d, r), dp << 2, L, spb, out + (<usize>r << 2), <usize>share << 2);
    }
    j = j0 + (share << 2);
  }
  for (; j < j1; j++) {
    const v = keptValues(d, j, quant, scratch);
    store<f32>(out + (<usize>j << 2), gatherDot(x, kpos + <usize>j * <usize>L, v, L, spb));
  }
}

/**
 * Reads one row's chunk of `slots` column bytes at `c` and, unless `v` is 0, its f32 kept values at `v`: one load
 * per 64 bytes, or-ed into a vector stored to `sink` (never read; the store keeps the loads). gemmSpNM runs it row
 * after row before its tiles walk the block's RB rows once per k-block, so the hardware prefetchers see one
 * sequential stream at a time and the tiles then read the rows from cache. Without it the tiles pulled
 * 2·RB = 32 streams (values and column bytes of 16 rows) from memory at once, more than the prefetchers follow:
 * the 4:8 GEMM ran 1.35× slower than the 2:4 one at batch 32 and 1.17× at 128 (same tile instructions; the 2:4
 * layout keeps 4 rows in one stream). With it the two run at the same speed.
 */
function warmRow(c: usize, v: usize, slots: i32, sink: usize): void {
  let a = v128.load(c);
  for (let i: i32 = 64; i < slots; i += 64) a = v128.or(a, v128.load(c + <usize>i));
  if (v != 0) for (let i: i32 = 0; i < slots; i += 16) a = v128.or(a, v128.load(v + (<usize>i << 2)));
  v128.store(sink, a);
}

/** Row j's f32 kept values from slot s0 in gemmSpNM: decoded into `dec` (§4, block from row jb) or uploaded (§3). */
@inline function spnmValues(d: usize, quant: bool, dec: usize, vstride: usize, jb: i32, j: i32, s0: i32): usize {
  return (quant ? dec + <usize>(j - jb) * vstride : keptRow(d, j)) + (<usize>s0 << 2);
}

/**
 * Any-N:M sparse GEMM (M dividing SPKB) of rows [j0, j1), structured
 * as gemmSp24: sub-blocks of SB weight rows with their tiles in scratch,
 * k-chunks (spChunk), blocks of RB weight rows (each row's chunk read once,
 * row after row: warmRow; §4 values of the chunk decoded to f32 first); for
 * each pair of 16-row panels, k-blocks of SPKB columns × one weight row at a
 * time (tileSpNMPair); a last odd panel takes 4 weight rows on its low half at
 * batches of up to 8 (tileSpNMHalf), else 2 (tileSpNM2), and an odd last row
 * or slot one (tileSpNM). A k-block holds whole N:M groups, so its kept slots
 * are one contiguous range of the row. Every output is one accumulator chain
 * over its row's kept slots in order, so neither the thread split nor the
 * panel count changes results.
 */
function gemmSpNM(d: usize, j0: i32, j1: i32, scratch: usize): void {
  const m = <i32>dw(d, D_M);
  const k = <i32>dw(d, D_K);
  const n = <i32>dw(d, D_N);
  const nn = <i32>dw(d, D_NN);
  const mm = <i32>dw(d, D_MM);
  const L = (k / mm) * nn;
  const quant = dw(d, D_KIND) == KIND_NMQ;
  const kpos = <usize>dw(d, D_KPOS);
  const panel = <usize>dw(d, D_PANEL);
  const out = <usize>dw(d, D_OUT);
  const ldo = <usize>n << 2;
  const strips = (m + 15) >> 4;
  const kcs = spChunk(strips);
  const ps = <usize>k << 6;
  const vstride = <usize>L << 2;
  const tiles = scratch; // SB·strips 64-byte slots
  const spare = tiles + (<usize>(SB * strips) << 6); // 64 bytes warmRow writes
  const dec = spare + 64; // §4: RB rows of decoded kept values
  for (let sb = j0; sb < j1; sb += SB) {
    const se = min(sb + SB, j1);
    memory.fill(tiles, 0, <usize>((se - sb) * strips) << 6);
    for (let kc: i32 = 0; kc < k; kc += kcs) {
      const ke = min(k, kc + kcs);
      for (let jb = sb; jb < se; jb += RB) {
        const je = min(jb + RB, se);
        // Each row's chunk is read row after row before the tiles walk the block's rows per k-block (see warmRow).
        const c0 = (kc / mm) * nn, c1 = (ke / mm) * nn;
        for (let j = jb; j < je; j++) {
          const c = kpos + <usize>j * <usize>L + <usize>c0;
          if (quant) {
            warmRow(c, 0, c1 - c0, spare);
            decodeKeptValues(d, j, dec + <usize>(j - jb) * vstride, c0, c1);
          } else {
            warmRow(c, keptRow(d, j) + (<usize>c0 << 2), c1 - c0, spare);
          }
        }
        for (let s: i32 = 0; s < strips; s += 2) {
          const p = panel + <usize>s * ps;
          const pair = s + 2 <= strips;
          // k-blocks of SPKB = 128 columns: the blocks of the column bytes.
          for (let kb = kc; kb < ke; kb += SPKB) {
            const s0 = (kb / mm) * nn;
            const slots = (min(k, kb + SPKB) / mm) * nn - s0;
            const pk = p + (<usize>kb << 6);
            let j = jb;
            if (!pair) {
              // One panel: batches of up to 8 four weight rows on its low half (tileSpNMHalf), else two weight rows per
              // tile (tileSpNM2); an odd last slot and an odd last row through tileSpNM.
              const s2 = slots & ~1;
              if (m <= 8) {
                for (; j + 4 <= je; j += 4) {
                  const v = spnmValues(d, quant, dec, vstride, jb, j, s0);
                  const vs = quant ? vstride : <usize>L << 2;
                  const c = kpos + <usize>j * <usize>L + <usize>s0;
                  const t = tileAt(tiles, sb, j, strips, s);
                  // Two call sites (whole and partial k-blocks): see gemmSp24.
                  if (s2 == slots) tileSpNMHalf(pk, c, <usize>L, v, vs, slots, t);
                  else tileSpNMHalf(pk, c, <usize>L, v, vs, s2, t);
                  if (s2 < slots) {
                    for (let i: usize = 0; i < 4; i++) tileSpNM(pk, c + i * <usize>L + <usize>s2, v + i * vs + (<usize>s2 << 2), 1, t + (i << 6));
                  }
                }
              }
              for (; j + 2 <= je; j += 2) {
                const v = spnmValues(d, quant, dec, vstride, jb, j, s0);
                const v1 = spnmValues(d, quant, dec, vstride, jb, j + 1, s0);
                const c = kpos + <usize>j * <usize>L + <usize>s0;
                const t = tileAt(tiles, sb, j, strips, s), t1 = tileAt(tiles, sb, j + 1, strips, s);
                // Two call sites (whole and partial k-blocks): see gemmSp24.
                if (s2 == slots) tileSpNM2(pk, c, v, c + <usize>L, v1, slots, t, t1);
                else tileSpNM2(pk, c, v, c + <usize>L, v1, s2, t, t1);
                if (s2 < slots) {
                  tileSpNM(pk, c + <usize>s2, v + (<usize>s2 << 2), 1, t);
                  tileSpNM(pk, c + <usize>L + <usize>s2, v1 + (<usize>s2 << 2), 1, t1);
                }
              }
            }
            for (; j < je; j++) {
              const v = spnmValues(d, quant, dec, vstride, jb, j, s0);
              const c = kpos + <usize>j * <usize>L + <usize>s0;
              const t = tileAt(tiles, sb, j, strips, s);
              if (pair) {
                // An odd last slot (only in a last partial block) runs through the one-panel tile, per panel.
                const s2 = slots & ~1;
                // Two call sites (whole and partial k-blocks): see gemmSp24.
                if (s2 == slots) tileSpNMPair(pk, ps, c, v, slots, t, t + 64);
                else tileSpNMPair(pk, ps, c, v, s2, t, t + 64);
                if (s2 < slots) {
                  tileSpNM(pk, c + <usize>s2, v + (<usize>s2 << 2), 1, t);
                  tileSpNM(pk + ps, c + <usize>s2, v + (<usize>s2 << 2), 1, t + 64);
                }
              } else {
                tileSpNM(pk, c, v, slots, t);
              }
            }
          }
        }
      }
    }
    storeTiles(tiles, strips, m, sb, se, out, ldo);
  }
}

// ---------------------------------------------------------------------------
// Entry.

/**
 * out [m, n] = a [m, k] · decode(W)ᵀ for the chunks of rows of W this thread
 * claims, as described by the descriptor at `d` (see the D_* words above).
 */
export function packedMatmul(tid: i32, nth: i32, d: usize): void {
  const n = <i32>dw(d, D_N);
  const scratch = <usize>dw(d, D_SCRATCH) + <usize>tid * <usize>dw(d, D_SCRATCH_STRIDE);
  // A small batch on a GEMV path: every activation row (its own descriptor) over the claimed chunk of weight
  // rows in turn, so the chunk comes from memory once and from cache for the other rows; each output is
  // computed exactly as by a one-row call.
  const rows = max(1, <i32>dw(d, D_ROWS));
  const ds = <usize>dw(d, D_DSTRIDE);
  // Rows claimed in chunks (work.ts), so a thread that runs slower takes fewer.
  const chunk = claimRows(n, nth);
  for (let j0 = claim(chunk); j0 < n; j0 = claim(chunk)) {
    for (let r: i32 = 0; r < rows; r++) packedRows(d + <usize>r * ds, j0, min(n, j0 + chunk), scratch);
  }
}

/** Rows [j0, j1) of W of the call at `d`, with this thread's `scratch`. */
function packedRows(d: usize, j0: i32, j1: i32, scratch: usize): void {
  const m = <i32>dw(d, D_M);
  const k = <i32>dw(d, D_K);
  const n = <i32>dw(d, D_N);
  const path = dw(d, D_PATH);
  const a = <usize>dw(d, D_A);
  const out = <usize>dw(d, D_OUT);
  if (path == PATH_SP24) {
    gemmSp24(d, j0, j1, scratch);
    return;
  }
  if (path == PATH_SPNM) {
    gemmSpNM(d, j0, j1, scratch);
    return;
  }
  if (m == 1) {
    if (path == PATH_Q4) gemvQ4(d, j0, j1, scratch);
    else if (path == PATH_Q8) gemvQ8(d, j0, j1);
    else if (path == PATH_NM24) gemvNM24(d, j0, j1, scratch);
    else if (path == PATH_NMQ4 || path == PATH_NMQ4C) gemvNMQ4(d, j0, j1, scratch);
    else if (path == PATH_NMG) gemvNMGather(d, j0, j1, scratch);
    else {
      for (let j = j0; j < j1; j++) {
        decodeRow(d, j, scratch);
        store<f32>(out + (<usize>j << 2), dot1(a, scratch, k));
      }
    }
    return;
  }
  const lda = <usize>k << 2;
  const ldo = <usize>n << 2;
  // GEMM: decode RB rows, then the dense 4×2 register tiles over k-blocks, on a's 4-row strips packed at D_PANEL
  // (packStrips in dense.ts).
  const m4 = m & ~3;
  const strips = <usize>dw(d, D_PANEL);
  const stripBytes = stripStride(k);
  for (let jb = j0; jb < j1; jb += RB) {
    const je = min(jb + RB, j1);
    for (let j = jb; j < je; j++) decodeRow(d, j, scratch + <usize>(j - jb) * lda);
    for (let pc: i32 = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const acc = pc > 0;
      const po = <usize>pc << 2;
      for (let i: i32 = 0; i < m4; i += 4) {
        const ai = a + <usize>i * lda + po;
        const oi = out + <usize>i * ldo;
        let j = jb;
        const pa = strips + <usize>(i >> 2) * stripBytes + (<usize>pc << 4);
        for (; j + 2 <= je; j += 2) tile4x2p(pa, scratch + <usize>(j - jb) * lda + po, lda, kc, oi + (<usize>j << 2), ldo, acc);
        if (j < je) tile4x1(ai, lda, scratch + <usize>(j - jb) * lda + po, kc, oi + (<usize>j << 2), ldo, acc);
      }
    }
    for (let i = m4; i < m; i++) gemvRange(a + <usize>i * lda, scratch, out + <usize>i * ldo + (<usize>jb << 2), k, 0, je - jb);
  }
}
