// Causal grouped-query attention (the optional `attention` model kernel of
// @sparq/tensor): out [m, H·hd] from q [m, H·hd], k and v [t, Hkv·hd], query
// row r at position qPos0 + r seeing keys j ≤ qPos0 + r (and, with a sliding
// window w, j > qPos0 + r − w). Query head h reads KV head h / (H / Hkv).
//
// Precision follows the float64 reference where it is cheap: q·k dot products
// in f32 SIMD (4 partial sums), then scores, softmax and its normaliser in
// f64 with this file's own exp (the module has no data segments, so no
// table-driven libm); the probability-weighted sum of values in f32 SIMD
// (value rows in order, into an accumulator row), scaled once by 1 / Σ. A decode step (m = 1) at t = 160 with 32
// heads of 128 takes ~2 ms in @sparq/lm's scalar float64 JS.
//
// Keys and values are either row-major [t, Hkv·hd] (a per-call copy) or
// head-major [Hkv, capacity, hd] (a resident cache, src/runtime/kv-mirrors.ts):
// head-major reads each head's keys as one sequential stream, where row-major
// reads 512-byte slices 16 KiB apart at 4096-wide rows — one page each, which
// the hardware prefetchers do not follow (at t = 1024, 2× slower per call).
//
// Threads split the (row, head) pairs evenly; every output is computed by the
// same code whatever the split, so results do not depend on the thread count.

import { dw } from './descriptor';

// Descriptor words (u32 index; src/kernels/attention.ts writes them).
const A_Q: i32 = 0;
const A_K: i32 = 1;
const A_V: i32 = 2;
const A_OUT: i32 = 3;
const A_M: i32 = 4;
const A_T: i32 = 5;
const A_HEADS: i32 = 6;
const A_KV_HEADS: i32 = 7;
const A_HD: i32 = 8;
const A_QPOS0: i32 = 9;
/** Sliding window in keys, 0 = none. */
const A_WINDOW: i32 = 10;
/** Per-thread scratch: an hd-float accumulator row and t f64 scores, A_SCRATCH_STRIDE bytes apart. */
const A_SCRATCH: i32 = 11;
const A_SCRATCH_STRIDE: i32 = 12;
/** Bytes from key/value row j to row j + 1 of one KV head, and from KV head h to h + 1 (row-major or head-major caches). */
const A_KV_ROW_STRIDE: i32 = 13;
const A_KV_HEAD_STRIDE: i32 = 14;

const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700;

/**
 * e^x for x ≤ 0 in f64 (softmax arguments after subtracting the maximum):
 * x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so r is exact to ~1e-19),
 * e^r by its Taylor series to r^12 (truncation < 1e-16 relative), times 2^n
 * built from the exponent bits. Below −708 the result underflows to 0, as the
 * reference's terms there are far below f32 resolution anyway.
 */
@inline function expNeg(x: f64): f64 {
  if (x < -708) return 0;
  const n = nearest(x * INV_LN2);
  const r = x - n * LN2_HI - n * LN2_LO;
  let p: f64 = 1.0 / 479001600.0; // 1/12!
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * reinterpret<f64>(<u64>(<i64>n + 1023) << 52);
}

/** q·k over hd f32 values (4 SIMD partial sums, then a scalar tail). */
@inline function dotF32(q: usize, k: usize, hd: i32): f32 {
  let s = f32x4.splat(0);
  let i: i32 = 0;
  for (; i + 4 <= hd; i += 4) s = f32x4.add(s, f32x4.mul(v128.load(q + (<usize>i << 2)), v128.load(k + (<usize>i << 2))));
  let d = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
  for (; i < hd; i++) d += load<f32>(q + (<usize>i << 2)) * load<f32>(k + (<usize>i << 2));
  return d;
}

/** This thread's share of the (row, head) pairs of the attention call described at `d`. */
export function attention(tid: i32, nth: i32, d: usize): void {
  const m = <i32>dw(d, A_M);
  const heads = <i32>dw(d, A_HEADS);
  const total = m * heads;
  const p0 = <i32>((<i64>total * tid) / nth);
  const p1 = <i32>((<i64>total * (tid + 1)) / nth);
  if (p0 >= p1) return;
  const q = <usize>dw(d, A_Q);
  const k = <usize>dw(d, A_K);
  const v = <usize>dw(d, A_V);
  const out = <usize>dw(d, A_OUT);
  const kvHeads = <i32>dw(d, A_KV_HEADS);
  const hd = <i32>dw(d, A_HD);
  const qPos0 = <i32>dw(d, A_QPOS0);
  const window = <i32>dw(d, A_WINDOW);
  // Per-thread scratch: the accumulator row (hd f32, 64-byte aligned), then t f64 scores.
  const acc = <usize>dw(d, A_SCRATCH) + <usize>tid * <usize>dw(d, A_SCRATCH_STRIDE);
  const scores = acc + ((<usize>hd * 4 + 63) & ~(<usize>63));
  const group = heads / kvHeads;
  const qW = <usize>(heads * hd) << 2; // bytes per q / out row
  const kW = <usize>dw(d, A_KV_ROW_STRIDE); // bytes from one key row to the next (of one head)
  const headStride = <usize>dw(d, A_KV_HEAD_STRIDE);
  const scale: f64 = 1 / Math.sqrt(<f64>hd);
  for (let p = p0; p < p1; p++) {
    const r = p / heads;
    const h = p - r * heads;
    const pos = qPos0 + r;
    const first = window > 0 ? max(0, pos - window + 1) : 0;
    const qr = q + <usize>r * qW + (<usize>(h * hd) << 2);
    const ko = <usize>(h / group) * headStride;
    let mx: f64 = -Infinity;
    for (let j = first; j <= pos; j++) {
      const s = <f64>dotF32(qr, k + <usize>j * kW + ko, hd) * scale;
      store<f64>(scores + (<usize>(j - first) << 3), s);
      mx = max(mx, s);
    }
    let sum: f64 = 0;
    for (let j = first; j <= pos; j++) {
      const sp = scores + (<usize>(j - first) << 3);
      const e = expNeg(load<f64>(sp) - mx);
      store<f64>(sp, e);
      sum += e;
    }
    const inv = <f32>(1 / sum);
    const o = out + <usize>r * qW + (<usize>(h * hd) << 2);
    // Σ_j e_j·v_j into the f32 accumulator row (in L1), one value row at a time, so each row is read once.
    memory.fill(acc, 0, <usize>hd << 2);
    const hd4 = hd & ~3;
    let vp = v + <usize>first * kW + ko;
    for (let j = first; j <= pos; j++, vp += kW) {
      const ej = <f32>load<f64>(scores + (<usize>(j - first) << 3));
      const e = f32x4.splat(ej);
      let i: i32 = 0;
      for (; i + 16 <= hd4; i += 16) {
        const a = acc + (<usize>i << 2);
        const w = vp + (<usize>i << 2);
        v128.store(a, f32x4.add(v128.load(a), f32x4.mul(e, v128.load(w))));
        v128.store(a, f32x4.add(v128.load(a, 16), f32x4.mul(e, v128.load(w, 16))), 16);
        v128.store(a, f32x4.add(v128.load(a, 32), f32x4.mul(e, v128.load(w, 32))), 32);
        v128.store(a, f32x4.add(v128.load(a, 48), f32x4.mul(e, v128.load(w, 48))), 48);
      }
      for (; i < hd4; i += 4) {
        const a = acc + (<usize>i << 2);
        v128.store(a, f32x4.add(v128.load(a), f32x4.mul(e, v128.load(vp + (<usize>i << 2)))));
      }
      for (; i < hd; i++) {
        const a = acc + (<usize>i << 2);
        store<f32>(a, load<f32>(a) + ej * load<f32>(vp + (<usize>i << 2)));
      }
    }
    for (let i: i32 = 0; i < hd; i++) store<f32>(o + (<usize>i << 2), load<f32>(acc + (<usize>i << 2)) * inv);
  }
}
