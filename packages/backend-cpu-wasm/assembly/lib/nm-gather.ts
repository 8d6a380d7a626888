// Any-N:M building blocks (M dividing 128, every pattern but 2:4, which has
// its own layouts): the kernels read each kept slot's column within its
// 128-column block as one byte (`kpos`, uploaded per weight by
// src/runtime/packed-weights.ts) next to its f32 value, so one code path serves
// 4:8, 1:4, 2:8, 8:16 … without decoding §3 index bits. A block holds whole
// N:M groups, so its kept slots are one contiguous run of the row: SPB =
// 128·N/M of them (a multiple of 8), fewer in a last partial block.
// - GEMV: a row's kept activations are gathered four at a time into an f32x4
//   (one load32_lane each) and multiplied with four consecutive kept values.
// - GEMM: each kept value is broadcast and multiplied with its column's 64-byte
//   line of 16-row activation panels, as the 2:4 tiles do (tileSp24Pair): the
//   4 column bytes of 4 slots are one u32, each slot's panel offset a shift and
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
  const a = f32x4.add(a0, a1);
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3) + r;
}

/**
 * 32 rows of a (two 16-row panels, `ps` bytes apart; `pk` = the k-block's
 * first column line) × one weight row over `slots` kept slots of that block,
 * a multiple of 4 (column bytes `pos`, f32 values `v`): per slot one
 * broadcast and 8 multiply-adds (gemmMadd) into 8 f32x4 accumulators
 * continued from / saved to the 64-byte tile slots t0, t1. Written as
 * tileSp24Pair (4 slots per step from one u32 of column bytes), which V8
 * compiles with the loads next to their multiply-adds. Two things made V8
 * hoist all 32 panel loads of a step above the multiply-adds and spill
 * (0.55× the 2:4 tile's speed): a u16 column per slot, and a remainder loop
 * for slots % 4 in this function — so the caller runs left-over slots
 * through tileSpNM, once per panel. Each accumulator takes the slots in
 * order, as in tileSpNM, so the tiles give identical results.
 */
export function tileSpNMPair(pk: usize, ps: usize, pos: usize, v: usize, slots: i32, t0: usize, t1: usize): void {
  let a0 = v128.load(t0), a1 = v128.load(t0, 16), a2 = v128.load(t0, 32), a3 = v128.load(t0, 48);
  let b0 = v128.load(t1), b1 = v128.load(t1, 16), b2 = v128.load(t1, 32), b3 = v128.load(t1, 48);
  for (let s: i32 = 0; s < slots; s += 4) {
    const c = <usize>load<u32>(pos + <usize>s);
    const w = v + (<usize>s << 2);
    let q = pk + ((c << 6) & 0x1fc0);
    let r = q + ps;
    let x = v128.load32_splat(w);
    a0 = gemmMadd(a0, x, v128.load(q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
    b0 = gemmMadd(b0, x, v128.load(r));
    b1 = gemmMadd(b1, x, v128.load(r, 16));
    b2 = gemmMadd(b2, x, v128.load(r, 32));
    b3 = gemmMadd(b3, x, v128.load(r, 48));
    q = pk + ((c >> 2) & 0x1fc0);
    r = q + ps;
    x = v128.load32_splat(w, 4);
    a0 = gemmMadd(a0, x, v128.load(q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
    b0 = gemmMadd(b0, x, v128.load(r));
    b1 = gemmMadd(b1, x, v128.load(r, 16));
    b2 = gemmMadd(b2, x, v128.load(r, 32));
    b3 = gemmMadd(b3, x, v128.load(r, 48));
    q = pk + ((c >> 10) & 0x1fc0);
    r = q + ps;
    x = v128.load32_splat(w, 8);
    a0 = gemmMadd(a0, x, v128.load(q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
    b0 = gemmMadd(b0, x, v128.load(r));
    b1 = gemmMadd(b1, x, v128.load(r, 16));
    b2 = gemmMadd(b2, x, v128.load(r, 32));
    b3 = gemmMadd(b3, x, v128.load(r, 48));
    q = pk + ((c >> 18) & 0x1fc0);
    r = q + ps;
    x = v128.load32_splat(w, 12);
    a0 = gemmMadd(a0, x, v128.load(q));
    a1 = gemmMadd(a1, x, v128.load(q, 16));
    a2 = gemmMadd(a2, x, v128.load(q, 32));
    a3 = gemmMadd(a3, x, v128.load(q, 48));
    b0 = gemmMadd(b0, x, v128.load(r));
    b1 = gemmMadd(b1, x, v128.load(r, 16));
    b2 = gemmMadd(b2, x, v128.load(r, 32));
    b3 = gemmMadd(b3, x, v128.load(r, 48));
  }
  v128.store(t0, a0); v128.store(t0, a1, 16); v128.store(t0, a2, 32); v128.store(t0, a3, 48);
  v128.store(t1, b0); v128.store(t1, b1, 16); v128.store(t1, b2, 32); v128.store(t1, b3, 48);
}

/**
 * 16 rows of a (one panel; `pk` = the k-block's first column line) × one
 * weight row over `slots` kept slots: tileSpNMPair's first half, for a last
 * odd panel. Same operations per accumulator in the same order.
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
