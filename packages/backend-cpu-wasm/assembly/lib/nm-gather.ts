// Any-N:M building blocks (M dividing 128, every pattern but 2:4, which has
// its own layouts): the kernels read each kept slot's column within its
// 128-column block as one byte (`kpos`, uploaded per weight by
// src/runtime/packed-weights.ts) next to its f32 value, so one code path serves
// 4:8, 1:4, 2:8, 8:16 … without decoding §3 index bits. A block holds whole
// N:M groups, so its kept slots are one contiguous run of the row: SPB =
// 128·N/M of them (a multiple of 8), fewer in a last partial block.
// - GEMV: a row's kept activations are gathered four at a time into an f32x4
//   (one load32_lane each) and multiplied with four consecutive kept values;
//   f32 rows go 4 at a time (gatherDotX4) for more memory streams in flight.
// - GEMM: each kept value is broadcast and multiplied with its column's 64-byte
//   line of 16-row activation panels, as the 2:4 tiles do (tileSp24Pair): the
//   column bytes of 2 slots are one u16, each slot's panel offset a shift and
//   a mask of it.
// Not an entry point: nothing here is a wasm export.

import { gemmMadd } from './dense-tiles';

/** Address of the activation of the kept slot whose column byte is at `pos` + `o` (block activations at `xb`). */
@inline function xat(xb: usize, pos: usize, o: usize): usize {
  return xb + (<usize>load<u8>(pos + o) << 2);
}

/** The activations of the 4 kept slots whose column bytes start at `pos`, as an f32x4 (one load32_lane per slot). */
@inline function gather4(xb: usize, pos: usize): v128 {
  let g = v128.load32_zero(xat(xb, pos, 0));
  g = v128.load32_lane(xat(xb, pos, 1), g, 1);
  g = v128.load32_lane(xat(xb, pos, 2), g, 2);
  return v128.load32_lane(xat(xb, pos, 3), g, 3);
}

/**
 * Σ_s v[s] · x[col(s)] over a row's `L` kept slots, `spb` per 128-column
 * block (column bytes `pos`, f32 values `v`): two f32x4 accumulators take
 * alternate groups of 4 slots; a last group of 4 of the row goes to the
 * first, left-over slots to a scalar sum. A separate multiply and add (not
 * the relaxed fused form), so the GEMV gives the same bits in both builds and
 * for any thread split.
 */
export function gatherDot(x: usize, pos: usize, v: usize, L: i32, spb: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let r: f32 = 0;
  let xb = x;
  for (let b: i32 = 0; b < L; b += spb, xb += 512) {
    const e = min(L, b + spb);
    let s = b;
    for (; s + 8 <= e; s += 8) {
      const u = <usize>s;
      a0 = f32x4.add(a0, f32x4.mul(gather4(xb, pos + u), v128.load(v + (u << 2))));
      a1 = f32x4.add(a1, f32x4.mul(gather4(xb, pos + u + 4), v128.load(v + (u << 2), 16)));
    }
    // Only a last partial block has slots left here.
    if (s + 4 <= e) {
      const u = <usize>s;
      a0 = f32x4.add(a0, f32x4.mul(gather4(xb, pos + u), v128.load(v + (u << 2))));
      s += 4;
    }
    for (; s < e; s++) r += load<f32>(v + (<usize>s << 2)) * load<f32>(xat(xb, pos, <usize>s));
  }
  return hsum4(f32x4.add(a0, a1)) + r;
}

/**
 * gatherDot for 4 rows at once (column bytes at `pos` + i·`dp`, values at
 * `v` + i·`dv`, results stored to `out` + i·`dout`, i = 0 … 3), so that 8
 * value and column-byte streams are in flight instead of 2. Each row takes
 * exactly gatherDot's operations in gatherDot's order, so a row gives the same
 * bits whichever of the two computes it.
 */
export function gatherDotX4(x: usize, pos: usize, dp: usize, v: usize, dv: usize, L: i32, spb: i32, out: usize, dout: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), e0 = f32x4.splat(0), e1 = f32x4.splat(0);
  let ra: f32 = 0, rb: f32 = 0, rc: f32 = 0, re: f32 = 0;
  const p1 = pos + dp, p2 = pos + 2 * dp, p3 = pos + 3 * dp;
  const v1 = v + dv, v2 = v + 2 * dv, v3 = v + 3 * dv;
  let xb = x;
  for (let b: i32 = 0; b < L; b += spb, xb += 512) {
    const e = min(L, b + spb);
    let s = b;
    for (; s + 8 <= e; s += 8) {
      const u = <usize>s;
      const w = u << 2;
      a0 = f32x4.add(a0, f32x4.mul(gather4(xb, pos + u), v128.load(v + w)));
      a1 = f32x4.add(a1, f32x4.mul(gather4(xb, pos + u + 4), v128.load(v + w, 16)));
      b0 = f32x4.add(b0, f32x4.mul(gather4(xb, p1 + u), v128.load(v1 + w)));
      b1 = f32x4.add(b1, f32x4.mul(gather4(xb, p1 + u + 4), v128.load(v1 + w, 16)));
      c0 = f32x4.add(c0, f32x4.mul(gather4(xb, p2 + u), v128.load(v2 + w)));
      c1 = f32x4.add(c1, f32x4.mul(gather4(xb, p2 + u + 4), v128.load(v2 + w, 16)));
      e0 = f32x4.add(e0, f32x4.mul(gather4(xb, p3 + u), v128.load(v3 + w)));
      e1 = f32x4.add(e1, f32x4.mul(gather4(xb, p3 + u + 4), v128.load(v3 + w, 16)));
    }
    if (s + 4 <= e) {
      const u = <usize>s;
      const w = u << 2;
      a0 = f32x4.add(a0, f32x4.mul(gather4(xb, pos + u), v128.load(v + w)));
      b0 = f32x4.add(b0, f32x4.mul(gather4(xb, p1 + u), v128.load(v1 + w)));
      c0 = f32x4.add(c0, f32x4.mul(gather4(xb, p2 + u), v128.load(v2 + w)));
      e0 = f32x4.add(e0, f32x4.mul(gather4(xb, p3 + u), v128.load(v3 + w)));
      s += 4;
    }
    for (; s < e; s++) {
      const u = <usize>s;
      ra += load<f32>(v + (u << 2)) * load<f32>(xat(xb, pos, u));
      rb += load<f32>(v1 + (u << 2)) * load<f32>(xat(xb, p1, u));
      rc += load<f32>(v2 + (u << 2)) * load<f32>(xat(xb, p2, u));
      re += load<f32>(v3 + (u << 2)) * load<f32>(xat(xb, p3, u));
    }
  }
  store<f32>(out, hsum4(f32x4.add(a0, a1)) + ra);
  store<f32>(out + dout, hsum4(f32x4.add(b0, b1)) + rb);
  store<f32>(out + 2 * dout, hsum4(f32x4.add(c0, c1)) + rc);
  store<f32>(out + 3 * dout, hsum4(f32x4.add(e0, e1)) + re);
}

/** Lanes 0 + 1 + 2 + 3, in that order (gatherDot's final sum). */
@inline function hsum4(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
}

/**
 * 32 rows of a (two 16-row panels, `ps` bytes apart; `pk` = the k-block's
 * first column line) × one weight row over `slots` kept slots of that block,
 * an even number (column bytes `pos`, f32 values `v`): per slot one broadcast
 * and 8 multiply-adds (gemmMadd) into 8 f32x4 accumulators continued from /
 * saved to the 64-byte tile slots t0, t1. Two slots per step, their panel
 * offsets from one u16 of column bytes, as tileSp24Pair steps a group: with 4
 * slots per step (one u32) V8 chained each accumulator's 4 multiply-adds and
 * spilled one to the stack every step. A u16 column per slot, or a remainder
 * loop in this function, made V8 hoist all panel loads of a step above the
 * multiply-adds and spill (0.55× the 2:4 tile), so the caller runs an odd
 * last slot through tileSpNM, once per panel. Each accumulator takes the
 * slots in order, as in tileSpNM, so the tiles give identical results.
 */
export function tileSpNMPair(pk: usize, ps: usize, pos: usize, v: usize, slots: i32, t0: usize, t1: usize): void {
  let a0 = v128.load(t0), a1 = v128.load(t0, 16), a2 = v128.load(t0, 32), a3 = v128.load(t0, 48);
  let b0 = v128.load(t1), b1 = v128.load(t1, 16), b2 = v128.load(t1, 32), b3 = v128.load(t1, 48);
  for (const pe = pos + <usize>slots; pos < pe; pos += 2) {
    const c = <usize>load<u16>(pos);
    const q = pk + ((c << 6) & 0x1fc0), Q = pk + ((c >> 2) & 0x1fc0);
    const r = q + ps, R = Q + ps;
    const x = v128.load32_splat(v), X = v128.load32_splat(v, 4);
    v += 8;
    a0 = gemmMadd(a0, x, v128.load(q));
    a0 = gemmMadd(a0, X, v128.load(Q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a1 = gemmMadd(a1, X, v128.load(Q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a2 = gemmMadd(a2, X, v128.load(Q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
    a3 = gemmMadd(a3, X, v128.load(Q, 48));
    b0 = gemmMadd(b0, x, v128.load(r));
    b0 = gemmMadd(b0, X, v128.load(R));
    b1 = gemmMadd(b1, x, v128.load(r, 16));
    b1 = gemmMadd(b1, X, v128.load(R, 16));
    b2 = gemmMadd(b2, x, v128.load(r, 32));
    b2 = gemmMadd(b2, X, v128.load(R, 32));
    b3 = gemmMadd(b3, x, v128.load(r, 48));
    b3 = gemmMadd(b3, X, v128.load(R, 48));
  }
  v128.store(t0, a0); v128.store(t0, a1, 16); v128.store(t0, a2, 32); v128.store(t0, a3, 48);
  v128.store(t1, b0); v128.store(t1, b1, 16); v128.store(t1, b2, 32); v128.store(t1, b3, 48);
}

/**
 * 8 rows of a (the low half of one 16-row panel: batches of up to 8) × 4
 * weight rows (row i: column bytes at `c` + i·`cs`, f32 values at `v` + i·`vs`)
 * over `slots` kept slots, an even number: 8 f32x4 accumulators continued
 * from / saved to the first 32 bytes of the rows' tile slots (`t` + 64·i), two
 * slots of each row per step. The 16-row tiles spend half their multiply-adds
 * on the panel's zero rows at such batches. Same operations per accumulator in
 * the same order as the other tiles.
 */
export function tileSpNMHalf(pk: usize, c: usize, cs: usize, v: usize, vs: usize, slots: i32, t: usize): void {
  let a0 = v128.load(t), a1 = v128.load(t, 16), b0 = v128.load(t, 64), b1 = v128.load(t, 80);
  let c0 = v128.load(t, 128), c1 = v128.load(t, 144), e0 = v128.load(t, 192), e1 = v128.load(t, 208);
  for (const ce = c + <usize>slots; c < ce; c += 2) {
    const w = v;
    v += 8;
    let x = <usize>load<u16>(c);
    let q = pk + ((x << 6) & 0x1fc0), Q = pk + ((x >> 2) & 0x1fc0);
    let y = v128.load32_splat(w), Y = v128.load32_splat(w, 4);
    a0 = gemmMadd(a0, y, v128.load(q));
    a0 = gemmMadd(a0, Y, v128.load(Q));
    a1 = gemmMadd(a1, y, v128.load(q, 16));
    a1 = gemmMadd(a1, Y, v128.load(Q, 16));
    x = <usize>load<u16>(c + cs);
    q = pk + ((x << 6) & 0x1fc0);
    Q = pk + ((x >> 2) & 0x1fc0);
    y = v128.load32_splat(w + vs);
    Y = v128.load32_splat(w + vs, 4);
    b0 = gemmMadd(b0, y, v128.load(q));
    b0 = gemmMadd(b0, Y, v128.load(Q));
    b1 = gemmMadd(b1, y, v128.load(q, 16));
    b1 = gemmMadd(b1, Y, v128.load(Q, 16));
    x = <usize>load<u16>(c + 2 * cs);
    q = pk + ((x << 6) & 0x1fc0);
    Q = pk + ((x >> 2) & 0x1fc0);
    y = v128.load32_splat(w + 2 * vs);
    Y = v128.load32_splat(w + 2 * vs, 4);
    c0 = gemmMadd(c0, y, v128.load(q));
    c0 = gemmMadd(c0, Y, v128.load(Q));
    c1 = gemmMadd(c1, y, v128.load(q, 16));
    c1 = gemmMadd(c1, Y, v128.load(Q, 16));
    x = <usize>load<u16>(c + 3 * cs);
    q = pk + ((x << 6) & 0x1fc0);
    Q = pk + ((x >> 2) & 0x1fc0);
    y = v128.load32_splat(w + 3 * vs);
    Y = v128.load32_splat(w + 3 * vs, 4);
    e0 = gemmMadd(e0, y, v128.load(q));
    e0 = gemmMadd(e0, Y, v128.load(Q));
    e1 = gemmMadd(e1, y, v128.load(q, 16));
    e1 = gemmMadd(e1, Y, v128.load(Q, 16));
  }
  v128.store(t, a0); v128.store(t, a1, 16); v128.store(t, b0, 64); v128.store(t, b1, 80);
  v128.store(t, c0, 128); v128.store(t, c1, 144); v128.store(t, e0, 192); v128.store(t, e1, 208);
}

/**
 * 16 rows of a (one panel; `pk` = the k-block's first column line) × two
 * weight rows A and B (column bytes `pa`, `pb`; f32 values `va`, `vb`) over
 * `slots` kept slots, an even number: 8 f32x4 accumulators continued from /
 * saved to the tile slots ta, tb, two slots of each row per step (as
 * tileSpNMPair). For a last odd panel: tileSpNM alone keeps 4 accumulators,
 * each taking one multiply-add per slot in a dependent chain (half the
 * multiply-add rate; batches of 9–16 are one panel, up to 8 run tileSpNMHalf). Same operations per
 * accumulator in the same order as the other tiles.
 */
export function tileSpNM2(pk: usize, pa: usize, va: usize, pb: usize, vb: usize, slots: i32, ta: usize, tb: usize): void {
  let a0 = v128.load(ta), a1 = v128.load(ta, 16), a2 = v128.load(ta, 32), a3 = v128.load(ta, 48);
  let b0 = v128.load(tb), b1 = v128.load(tb, 16), b2 = v128.load(tb, 32), b3 = v128.load(tb, 48);
  for (const pe = pa + <usize>slots; pa < pe; pa += 2, pb += 2) {
    const ca = <usize>load<u16>(pa);
    const cb = <usize>load<u16>(pb);
    let q = pk + ((ca << 6) & 0x1fc0);
    let x = v128.load32_splat(va);
    a0 = gemmMadd(a0, x, v128.load(q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
    q = pk + ((cb << 6) & 0x1fc0);
    x = v128.load32_splat(vb);
    b0 = gemmMadd(b0, x, v128.load(q));
    b1 = gemmMadd(b1, x, v128.load(q, 16));
    b2 = gemmMadd(b2, x, v128.load(q, 32));
    b3 = gemmMadd(b3, x, v128.load(q, 48));
    q = pk + ((ca >> 2) & 0x1fc0);
    x = v128.load32_splat(va, 4);
    a0 = gemmMadd(a0, x, v128.load(q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
    q = pk + ((cb >> 2) & 0x1fc0);
    x = v128.load32_splat(vb, 4);
    b0 = gemmMadd(b0, x, v128.load(q));
    b1 = gemmMadd(b1, x, v128.load(q, 16));
    b2 = gemmMadd(b2, x, v128.load(q, 32));
    b3 = gemmMadd(b3, x, v128.load(q, 48));
    va += 8;
    vb += 8;
  }
  v128.store(ta, a0); v128.store(ta, a1, 16); v128.store(ta, a2, 32); v128.store(ta, a3, 48);
  v128.store(tb, b0); v128.store(tb, b1, 16); v128.store(tb, b2, 32); v128.store(tb, b3, 48);
}

/**
 * 16 rows of a (one panel; `pk` = the k-block's first column line) × one
 * weight row over `slots` kept slots: tileSpNMPair's first half, for a last
 * odd panel (a last odd weight row, and odd last slots; tileSpNM2 takes row
 * pairs). Same operations per accumulator in the same order.
 */
export function tileSpNM(pk: usize, pos: usize, v: usize, slots: i32, t0: usize): void {
  let a0 = v128.load(t0), a1 = v128.load(t0, 16), a2 = v128.load(t0, 32), a3 = v128.load(t0, 48);
  for (let s: i32 = 0; s < slots; s++) {
    const q = pk + (<usize>load<u8>(pos + <usize>s) << 6);
    const x = v128.load32_splat(v + (<usize>s << 2));
    a0 = gemmMadd(a0, x, v128.load(q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
  }
  v128.store(t0, a0); v128.store(t0, a1, 16); v128.store(t0, a2, 32); v128.store(t0, a3, 48);
}
