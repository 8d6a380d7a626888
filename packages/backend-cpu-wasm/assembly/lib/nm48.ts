// 4:8 f32 GEMV on the any-N:M column bytes (`keptPos`, one byte per kept slot:
// its column within its 128-column block) and row-major kept values — the
// layouts the 4:8 sparse GEMM reads too, so nothing is uploaded for it.
//
// A row's 4 kept slots of an 8-column group are one f32x4 of values; their
// activations are gathered from the group's 32 bytes of f32 activations with
// two swizzles: the low table holds columns 0–3, the high one 4–7. Each slot's
// column byte c becomes, through a 16-entry swizzle table (C_NM48),
// b = 4·(p & 3) | 0x80·(p ≥ 4) with p = c & 7; spread over its f32 lane (bytes
// b + 0 … b + 3) it indexes the low table, and b ^ 0x80 the high one. An index
// with bit 7 set selects 0 in both builds (`i8x16.swizzle`: any index ≥ 16;
// `relaxed_swizzle`: any index ≥ 128), so the or of the two gathers is exactly
// x[p] in every lane. Per 8 columns of a row that is about 9 SIMD operations on
// 4 kept slots, where the one-lane-at-a-time gather (gatherDot: a byte load and
// a lane insert per slot) spent about twice as many and ran at dense f32 speed.
// Each row's sum is one accumulator over its groups in order, then its lanes in
// order, in both functions, so results do not depend on which computes a row
// (the thread split) or on the build (swizzle results are exact in both).
// Not an entry point: nothing here is a wasm export.

import { hsum } from './dense-tiles';
import { C_0F, C_80, C_J, C_NM48 } from './descriptor';

/** Dynamic byte gather; `relaxed_swizzle` is exact for the indices passed here (< 16, or ≥ 128 → 0). */
@inline function swz(a: v128, s: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i8x16.relaxed_swizzle(a, s);
  return i8x16.swizzle(a, s);
}

/**
 * acc + v · x[p] for one 8-column group: `i` holds the 4 slots' low-table byte
 * indices (lane l: bytes b_l + 0 … 3, bit 7 set when p ≥ 4), `lo` / `hi` the
 * group's activations of columns 0–3 / 4–7, `v` the address of the 4 kept values.
 */
@inline function nm48Madd(acc: v128, i: v128, lo: v128, hi: v128, h80: v128, v: usize): v128 {
  const g = v128.or(swz(lo, i), swz(hi, v128.xor(i, h80)));
  return f32x4.add(acc, f32x4.mul(g, v128.load(v)));
}

/**
 * The low-table indices of the first group in `u` (slot bytes doubled:
 * nm48Lo for groups 0, 1 of a step, nm48Hi for 2, 3): each slot byte spread
 * over its f32 lane, or-ed with `J` (bytes 0–3). Unpacks only: V8 builds a
 * general byte shuffle's mask from immediates at every use (four instructions).
 */
@inline function nm48IdxA(u: v128, J: v128): v128 {
  return v128.or(i8x16.shuffle(u, u, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7), J);
}
/** nm48IdxA for the second group of `u` (its bytes 8–15). */
@inline function nm48IdxB(u: v128, J: v128): v128 {
  return v128.or(i8x16.shuffle(u, u, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15), J);
}
/** Slot bytes 0–7 of `b`, each doubled (one unpack): groups 0 and 1 of a 32-column step. */
@inline function nm48Lo(b: v128): v128 {
  return i8x16.shuffle(b, b, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
}
/** Slot bytes 8–15 of `b`, each doubled: groups 2 and 3. */
@inline function nm48Hi(b: v128): v128 {
  return i8x16.shuffle(b, b, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
}

/** Slot bytes b of the column bytes `c` (16 or 4 of them) through the table `lut` (`m0f`: byte splat of 0x0f). */
@inline function nm48Bytes(c: v128, lut: v128, m0f: v128): v128 {
  return swz(lut, v128.and(c, m0f));
}

/**
 * Σ_s v[s] · x[col(s)] of one 4:8 row (`k` columns, column bytes at `pos`,
 * kept values at `v`): one accumulator takes the groups in order, then its
 * lanes are summed in order — nm48DotX4's operations for each of its rows,
 * so a row gives the same bits whichever computes it. `cst` points at the
 * descriptor's constant table (descriptor.ts: C_J, C_0F, C_80, C_NM48).
 */
export function nm48Dot(x: usize, pos: usize, v: usize, k: i32, cst: usize): f32 {
  const J = v128.load(cst, C_J), m0f = v128.load(cst, C_0F), h80 = v128.load(cst, C_80), lut = v128.load(cst, C_NM48);
  let acc = f32x4.splat(0);
  let c: i32 = 0;
  for (; c + 32 <= k; c += 32) {
    const b = nm48Bytes(v128.load(pos), lut, m0f);
    const u = nm48Lo(b), w = nm48Hi(b);
    acc = nm48Madd(acc, nm48IdxA(u, J), v128.load(x), v128.load(x, 16), h80, v);
    acc = nm48Madd(acc, nm48IdxB(u, J), v128.load(x, 32), v128.load(x, 48), h80, v + 16);
    acc = nm48Madd(acc, nm48IdxA(w, J), v128.load(x, 64), v128.load(x, 80), h80, v + 32);
    acc = nm48Madd(acc, nm48IdxB(w, J), v128.load(x, 96), v128.load(x, 112), h80, v + 48);
    pos += 16;
    v += 64;
    x += 128;
  }
  for (; c < k; c += 8) {
    const b = nm48Bytes(v128.load32_zero(pos), lut, m0f);
    acc = nm48Madd(acc, nm48IdxA(nm48Lo(b), J), v128.load(x), v128.load(x, 16), h80, v);
    pos += 4;
    v += 16;
    x += 32;
  }
  return hsum(acc);
}

/**
 * nm48Dot for 4 rows at once (column bytes at `pos` + i·`dp`, values at `v` +
 * i·`dv`, results to `out` + i·`dout`, i = 0 … 3), so 8 weight streams are in
 * flight instead of 2: per 32-column step rows 0, 1 then rows 2, 3 (nm48Pair),
 * each pair sharing a group's two activation loads. `scratch`: 32 bytes the
 * pairs' scheduling stores write (never read). A first version with all 4 rows
 * in one step and general byte shuffles reached 1.08–1.13× the old gather's
 * speed, where this one reached 1.28–1.35× (A/B): V8 loaded every value of the
 * step first and spilled, and built each shuffle's mask from immediates.
 */
export function nm48DotX4(x: usize, pos: usize, dp: usize, v: usize, dv: usize, k: i32, cst: usize, out: usize, dout: usize, scratch: usize): void {
  const J = v128.load(cst, C_J), h80 = v128.load(cst, C_80);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const p2 = pos + 2 * dp, v2 = v + 2 * dv;
  let c: i32 = 0;
  for (; c + 32 <= k; c += 32) {
    const o = <usize>c;
    nm48Pair(x, pos + (o >> 1), dp, v + (o << 1), dv, cst, J, h80, a0, a1, scratch);
    a0 = NM48_A;
    a1 = NM48_B;
    nm48Pair(x, p2 + (o >> 1), dp, v2 + (o << 1), dv, cst, J, h80, a2, a3, scratch);
    a2 = NM48_A;
    a3 = NM48_B;
    x += 128;
  }
  for (; c < k; c += 8) {
    const o = <usize>c;
    const m0f = v128.load(cst, C_0F), lut = v128.load(cst, C_NM48);
    const lo = v128.load(x), hi = v128.load(x, 16);
    a0 = nm48Madd(a0, nm48IdxA(nm48Lo(nm48Bytes(v128.load32_zero(pos + (o >> 1)), lut, m0f)), J), lo, hi, h80, v + (o << 1));
    a1 = nm48Madd(a1, nm48IdxA(nm48Lo(nm48Bytes(v128.load32_zero(pos + dp + (o >> 1)), lut, m0f)), J), lo, hi, h80, v + dv + (o << 1));
    a2 = nm48Madd(a2, nm48IdxA(nm48Lo(nm48Bytes(v128.load32_zero(p2 + (o >> 1)), lut, m0f)), J), lo, hi, h80, v2 + (o << 1));
    a3 = nm48Madd(a3, nm48IdxA(nm48Lo(nm48Bytes(v128.load32_zero(p2 + dp + (o >> 1)), lut, m0f)), J), lo, hi, h80, v2 + dv + (o << 1));
    x += 32;
  }
  store<f32>(out, hsum(a0));
  store<f32>(out + dout, hsum(a1));
  store<f32>(out + 2 * dout, hsum(a2));
  store<f32>(out + 3 * dout, hsum(a3));
}

// Results of nm48Pair (AssemblyScript functions return one value; these stay in registers once inlined).
let NM48_A: v128 = f32x4.splat(0);
let NM48_B: v128 = f32x4.splat(0);

/**
 * 32 columns of two rows (column bytes at `p`, `p` + `dp`; values at `v`, `v` + `dv`) continuing accumulators
 * a, b into NM48_A, NM48_B. After each group both accumulators are stored to `scratch` (32 bytes, never read):
 * V8 keeps wasm loads in program order and schedules arithmetic after them, so without the stores it loaded the
 * whole step first and spilled.
 */
@inline function nm48Pair(x: usize, p: usize, dp: usize, v: usize, dv: usize, cst: usize, J: v128, h80: v128, a: v128, b: v128, scratch: usize): void {
  const m0f = v128.load(cst, C_0F), lut = v128.load(cst, C_NM48);
  const ba = nm48Bytes(v128.load(p), lut, m0f);
  const bb = nm48Bytes(v128.load(p + dp), lut, m0f);
  let ua = nm48Lo(ba), ub = nm48Lo(bb);
  let lo = v128.load(x);
  let hi = v128.load(x, 16);
  a = nm48Madd(a, nm48IdxA(ua, J), lo, hi, h80, v);
  b = nm48Madd(b, nm48IdxA(ub, J), lo, hi, h80, v + dv);
  v128.store(scratch, a);
  v128.store(scratch, b, 16);
  lo = v128.load(x, 32);
  hi = v128.load(x, 48);
  a = nm48Madd(a, nm48IdxB(ua, J), lo, hi, h80, v + 16);
  b = nm48Madd(b, nm48IdxB(ub, J), lo, hi, h80, v + dv + 16);
  v128.store(scratch, a);
  v128.store(scratch, b, 16);
  ua = nm48Hi(ba);
  ub = nm48Hi(bb);
  lo = v128.load(x, 64);
  hi = v128.load(x, 80);
  a = nm48Madd(a, nm48IdxA(ua, J), lo, hi, h80, v + 32);
  b = nm48Madd(b, nm48IdxA(ub, J), lo, hi, h80, v + dv + 32);
  v128.store(scratch, a);
  v128.store(scratch, b, 16);
  lo = v128.load(x, 96);
  hi = v128.load(x, 112);
  a = nm48Madd(a, nm48IdxB(ua, J), lo, hi, h80, v + 48);
  b = nm48Madd(b, nm48IdxB(ub, J), lo, hi, h80, v + dv + 48);
  v128.store(scratch, a);
  v128.store(scratch, b, 16);
  NM48_A = a;
  NM48_B = b;
}
