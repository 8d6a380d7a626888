// Causal grouped-query attention (the optional `attention` model kernel of
// @sparq/tensor): out [m, H·hd] from q [m, H·hd], k and v [t, Hkv·hd], query
// row r at position qPos0 + r seeing keys j ≤ qPos0 + r (and, with a sliding
// window w, j > qPos0 + r − w). Query head h reads KV head h / (H / Hkv).
//
// Precision follows the float64 reference where it is cheap: q·k dot products
// in f32 SIMD (4 partial sums), then scores, softmax and its normaliser in
// f64 with this file's own exp (the module has no data segments, so no
// table-driven libm); the probability-weighted sum of values in f32 SIMD,
// scaled once by 1 / Σ at the end. A decode step (m = 1) at t = 160 with 32
// heads of 128 takes ~2 ms in @sparq/lm's scalar float64 JS.
//
// Threads split the (row, head) pairs evenly; every output is computed by the
// same code whatever the split, so results do not depend on the thread count.

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
/** Per-thread scratch: t f64 scores each, A_SCRATCH_STRIDE bytes apart. */
const A_SCRATCH: i32 = 11;
const A_SCRATCH_STRIDE: i32 = 12;

@inline function aw(d: usize, i: i32): u32 {
  return load<u32>(d + (<usize>i << 2));
}

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
  const m = <i32>aw(d, A_M);
  const heads = <i32>aw(d, A_HEADS);
  const total = m * heads;
  const p0 = <i32>((<i64>total * tid) / nth);
  const p1 = <i32>((<i64>total * (tid + 1)) / nth);
  if (p0 >= p1) return;
  const q = <usize>aw(d, A_Q);
  const k = <usize>aw(d, A_K);
  const v = <usize>aw(d, A_V);
  const out = <usize>aw(d, A_OUT);
  const kvHeads = <i32>aw(d, A_KV_HEADS);
  const hd = <i32>aw(d, A_HD);
  const qPos0 = <i32>aw(d, A_QPOS0);
  const window = <i32>aw(d, A_WINDOW);
  const scores = <usize>aw(d, A_SCRATCH) + <usize>tid * <usize>aw(d, A_SCRATCH_STRIDE);
  const group = heads / kvHeads;
  const qW = <usize>(heads * hd) << 2; // bytes per q / out row
  const kW = <usize>(kvHeads * hd) << 2; // bytes per k / v row
  const scale: f64 = 1 / Math.sqrt(<f64>hd);
  for (let p = p0; p < p1; p++) {
    const r = p / heads;
    const h = p - r * heads;
    const pos = qPos0 + r;
    const first = window > 0 ? max(0, pos - window + 1) : 0;
    const qr = q + <usize>r * qW + (<usize>(h * hd) << 2);
    const ko = <usize>((h / group) * hd) << 2;
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
    // Σ_j e_j·v_j, 16 dimensions at a time (four accumulators), then the scalar tail.
    let i: i32 = 0;
    for (; i + 16 <= hd; i += 16) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let vp = v + <usize>first * kW + ko + (<usize>i << 2);
      for (let j = first; j <= pos; j++, vp += kW) {
        const e = f32x4.splat(<f32>load<f64>(scores + (<usize>(j - first) << 3)));
        a0 = f32x4.add(a0, f32x4.mul(e, v128.load(vp)));
        a1 = f32x4.add(a1, f32x4.mul(e, v128.load(vp, 16)));
        a2 = f32x4.add(a2, f32x4.mul(e, v128.load(vp, 32)));
        a3 = f32x4.add(a3, f32x4.mul(e, v128.load(vp, 48)));
      }
      const sc = f32x4.splat(inv);
      const oi = o + (<usize>i << 2);
      v128.store(oi, f32x4.mul(a0, sc));
      v128.store(oi, f32x4.mul(a1, sc), 16);
      v128.store(oi, f32x4.mul(a2, sc), 32);
      v128.store(oi, f32x4.mul(a3, sc), 48);
    }
    for (; i < hd; i++) {
      let a: f32 = 0;
      let vp = v + <usize>first * kW + ko + (<usize>i << 2);
      for (let j = first; j <= pos; j++, vp += kW) a += <f32>load<f64>(scores + (<usize>(j - first) << 3)) * load<f32>(vp);
      store<f32>(o + (<usize>i << 2), a * inv);
    }
  }
}
