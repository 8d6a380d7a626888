// Dense weights stored in half precision (f16 or bf16, e.g. a half-precision
// checkpoint's), widened to f32 on the fly: exactly, so every product equals
// the f32 kernel's on the widened weights. W is [n, k] u16 rows (k·2 bytes).
//
// The GEMV streams half the bytes of the f32 one and widens in registers; its
// per-row arithmetic is the f32 GEMV's (assembly/dense.ts gemvShare): dot1's
// two accumulators taking alternate 4-float chunks — so a half GEMV equals the
// f32 GEMV on the widened weights bit for bit. The GEMM
// widens blocks of NB rows into per-thread scratch and runs the f32 tiles
// (matmulHalf in assembly/dense.ts).

import { fma4, hsum } from './dense-tiles';

/** f16 weights with no infinity or NaN (checked at upload): no exponent-31 fix-up. */
export const HALF_F16_FINITE: i32 = 0;
/** f16 weights that may hold infinities or NaNs. */
export const HALF_F16: i32 = 1;
/** bf16 weights (the top half of an f32: widening is a shift, always exact). */
export const HALF_BF16: i32 = 2;
/**
 * HALF_F16_FINITE / HALF_F16 with the activations pre-scaled by 2^112 (GEMV
 * only): the weights are used as the unscaled patterns (value × 2^-112), so
 * each product x·2^112 · w·2^-112 is the same real number x·w and rounds the
 * same — one multiply per 4 weights less. The caller scales only when every
 * |x| < 2^16, so that x·2^112 is finite (and exact: a power of two).
 */
export const HALF_F16_FINITE_SCALED: i32 = 3;
export const HALF_F16_SCALED: i32 = 4;

/** Kinds whose f16 values may be infinite or NaN (exponent-31 fix-up on). */
@inline function fixes(kind: i32): bool {
  return kind == HALF_F16 || kind == HALF_F16_SCALED;
}

/** Kinds whose activations carry the 2^112 scaling. */
@inline function scaled(kind: i32): bool {
  return kind >= HALF_F16_FINITE_SCALED;
}

/** 2^112: moves an f16 exponent (bias 15) placed in an f32's exponent field (bias 127) to its value. */
const F16_SCALE: f32 = 5.192296858534828e33;

/**
 * f16 → f32 bit patterns of the value × 2^-112, as two i16 vectors: the high
 * words carry the sign (bit 15) and the exponent and top mantissa bits (h bits
 * 14…3 → bits 11…0: an arithmetic shift by 3, masked), the low words the last
 * 3 mantissa bits (h << 13). Interleaving them gives the f32 patterns, whose
 * values × 2^112 (an exact power-of-two scaling that stays in range,
 * subnormals included) are the f16 values.
 */
@inline function f16High(h: v128): v128 {
  return v128.and(i16x8.shr_s(h, 3), i16x8.splat(<i16>0x8fff));
}

/**
 * The scaled f32 of `bits` (interleaved words as above) × 2^112. Exponent 31
 * (infinity, NaN) comes out as 2^16 × 1.m, so with `fix` its exponent field is
 * set to all ones.
 */
@inline function f16Scale(bits: v128, fix: bool, pre: bool): v128 {
  const f = pre ? bits : f32x4.mul(bits, f32x4.splat(F16_SCALE));
  if (!fix) return f;
  const special = i32x4.eq(v128.and(bits, i32x4.splat(0x0f800000)), i32x4.splat(0x0f800000));
  return v128.or(f, v128.and(special, i32x4.splat(0x7f800000)));
}

/** Halves 0–3 of the 8 in `h` as f32 (`kind`: HALF_*); `hi` is f16High(h) (unused for bf16). */
@inline function widenLo(h: v128, hi: v128, kind: i32): v128 {
  // Word interleaves in V8's canonical patterns (one punpcklwd / punpckhwd each).
  if (kind == HALF_BF16) return i8x16.shuffle(i32x4.splat(0), h, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
  return f16Scale(i8x16.shuffle(i16x8.shl(h, 13), hi, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23), fixes(kind), scaled(kind));
}

/** Halves 4–7 of the 8 in `h` as f32. */
@inline function widenHi(h: v128, hi: v128, kind: i32): v128 {
  if (kind == HALF_BF16) return i8x16.shuffle(i32x4.splat(0), h, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
  return f16Scale(i8x16.shuffle(i16x8.shl(h, 13), hi, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), fixes(kind), scaled(kind));
}

/** Halves 0–3 of `h` (a 4-half tail) as f32. */
@inline function widen4(h: v128, kind: i32): v128 {
  return widenLo(h, highWords(h, kind), kind);
}

/** f16High(h) for f16 kinds; bf16 needs none. */
@inline function highWords(h: v128, kind: i32): v128 {
  return kind == HALF_BF16 ? h : f16High(h);
}

/** One half (u16 bits in the low half of `h`) as f32, by the same bit operations as the SIMD lanes. */
@inline function widen1(h: u32, kind: i32): f32 {
  if (kind == HALF_BF16) return reinterpret<f32>(h << 16);
  const e = <u32>(<i32>(h << 16) >> 16);
  let f = reinterpret<f32>((e << 13) & 0x8fffe000);
  if (!scaled(kind)) f *= F16_SCALE;
  if (fixes(kind) && (h & 0x7c00) == 0x7c00) f = reinterpret<f32>(reinterpret<u32>(f) | 0x7f800000);
  return f;
}

/** Row `w` (k halves) widened into `dst` (k f32). */
export function widenRow(w: usize, k: i32, kind: i32, dst: usize): void {
  let p: i32 = 0;
  for (; p + 8 <= k; p += 8) {
    const h = v128.load(w + (<usize>p << 1));
    const H = highWords(h, kind);
    v128.store(dst + (<usize>p << 2), widenLo(h, H, kind));
    v128.store(dst + (<usize>p << 2), widenHi(h, H, kind), 16);
  }
  for (; p < k; p++) store<f32>(dst + (<usize>p << 2), widen1(<u32>load<u16>(w + (<usize>p << 1)), kind));
}

/**
 * out[j] = a · W[j] for the 4 rows at `w` (`ld` bytes apart), outputs `os`
 * bytes apart, with dot1's arithmetic (accumulators s0, s1 take alternate
 * 4-float chunks, a last chunk into s0), then the horizontal sum and the
 * scalar tail, as in the f32 kernels.
 */
@inline function rows4(a: usize, w: usize, ld: usize, k: i32, out: usize, os: usize, kind: i32): void {
  const w0 = w, w1 = w + ld, w2 = w + 2 * ld, w3 = w + 3 * ld;
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0), c0 = f32x4.splat(0), d0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0), c1 = f32x4.splat(0), d1 = f32x4.splat(0);
  let p: i32 = 0;
  for (; p + 8 <= k; p += 8) {
    const x0 = v128.load(a + (<usize>p << 2));
    const x1 = v128.load(a + (<usize>p << 2), 16);
    const o = <usize>p << 1;
    let h = v128.load(w0 + o);
    let H = highWords(h, kind);
    a0 = fma4(a0, x0, widenLo(h, H, kind));
    a1 = fma4(a1, x1, widenHi(h, H, kind));
    h = v128.load(w1 + o);
    H = highWords(h, kind);
    b0 = fma4(b0, x0, widenLo(h, H, kind));
    b1 = fma4(b1, x1, widenHi(h, H, kind));
    h = v128.load(w2 + o);
    H = highWords(h, kind);
    c0 = fma4(c0, x0, widenLo(h, H, kind));
    c1 = fma4(c1, x1, widenHi(h, H, kind));
    h = v128.load(w3 + o);
    H = highWords(h, kind);
    d0 = fma4(d0, x0, widenLo(h, H, kind));
    d1 = fma4(d1, x1, widenHi(h, H, kind));
  }
  if (p + 4 <= k) {
    const x = v128.load(a + (<usize>p << 2));
    const o = <usize>p << 1;
    a0 = fma4(a0, x, widen4(v128.load64_zero(w0 + o), kind));
    b0 = fma4(b0, x, widen4(v128.load64_zero(w1 + o), kind));
    c0 = fma4(c0, x, widen4(v128.load64_zero(w2 + o), kind));
    d0 = fma4(d0, x, widen4(v128.load64_zero(w3 + o), kind));
    p += 4;
  }
  store<f32>(out, tail(f32x4.add(a0, a1), a, w0, p, k, kind));
  store<f32>(out + os, tail(f32x4.add(b0, b1), a, w1, p, k, kind));
  store<f32>(out + 2 * os, tail(f32x4.add(c0, c1), a, w2, p, k, kind));
  store<f32>(out + 3 * os, tail(f32x4.add(d0, d1), a, w3, p, k, kind));
}

/** One row of rows4's arithmetic (the rows a claim leaves over). */
@inline function row1(a: usize, w: usize, k: i32, out: usize, kind: i32): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  let p: i32 = 0;
  for (; p + 8 <= k; p += 8) {
    const h = v128.load(w + (<usize>p << 1));
    const H = highWords(h, kind);
    s0 = fma4(s0, v128.load(a + (<usize>p << 2)), widenLo(h, H, kind));
    s1 = fma4(s1, v128.load(a + (<usize>p << 2), 16), widenHi(h, H, kind));
  }
  if (p + 4 <= k) {
    s0 = fma4(s0, v128.load(a + (<usize>p << 2)), widen4(v128.load64_zero(w + (<usize>p << 1)), kind));
    p += 4;
  }
  store<f32>(out, tail(f32x4.add(s0, s1), a, w, p, k, kind));
}

/** Horizontal sum of `acc`, then the scalar products of columns [p, k). */
@inline function tail(acc: v128, a: usize, w: usize, p: i32, k: i32, kind: i32): f32 {
  let s = hsum(acc);
  for (; p < k; p++) s += load<f32>(a + (<usize>p << 2)) * widen1(<u32>load<u16>(w + (<usize>p << 1)), kind);
  return s;
}

/**
 * The rows of [j0, j1) that gemvHalf takes 4 at a time; returns the first row
 * left over. 4 consecutive rows unless the row stride is a multiple of 4 KiB,
 * where such rows map to the same L1 sets: then 4 rows a quarter of the range
 * apart, each a long stream across rows. (The f32 GEMV now spaces its rows
 * for every stride. Spacing half rows too measured 1.08× at k = 11008, but
 * written without this branch gemvHalf ran at 0.39–0.49× on every shape: V8's
 * code no longer held one loop per kind, 30 multiplies instead of 98, so the
 * branch stays until that is understood.)
 */
@inline function rowsOf(a: usize, w: usize, out: usize, k: i32, j0: i32, j1: i32, kind: i32): i32 {
  const ld = <usize>k << 1;
  if ((ld & 4095) != 0) {
    let j = j0;
    for (; j + 4 <= j1; j += 4) rows4(a, w + <usize>j * ld, ld, k, out + (<usize>j << 2), 4, kind);
    return j;
  }
  const q = (j1 - j0) >> 2;
  for (let i: i32 = 0; i < q; i++) {
    const j = j0 + i;
    rows4(a, w + <usize>j * ld, <usize>q * ld, k, out + (<usize>j << 2), <usize>q << 2, kind);
  }
  return j0 + (q << 2);
}

/** out[j] = a · W[j] for j in [j0, j1) of half-precision W (row stride k·2 bytes). */
export function gemvHalf(a: usize, w: usize, out: usize, k: i32, j0: i32, j1: i32, kind: i32): void {
  const ld = <usize>k << 1;
  let j = j0;
  // One instantiation of rows4 per kind: a constant inside, so each loop is specialised.
  if (kind == HALF_BF16) j = rowsOf(a, w, out, k, j0, j1, HALF_BF16);
  else if (kind == HALF_F16) j = rowsOf(a, w, out, k, j0, j1, HALF_F16);
  else if (kind == HALF_F16_SCALED) j = rowsOf(a, w, out, k, j0, j1, HALF_F16_SCALED);
  else if (kind == HALF_F16_FINITE_SCALED) j = rowsOf(a, w, out, k, j0, j1, HALF_F16_FINITE_SCALED);
  else j = rowsOf(a, w, out, k, j0, j1, HALF_F16_FINITE);
  for (; j < j1; j++) row1(a, w + <usize>j * ld, k, out + (<usize>j << 2), kind);
}
