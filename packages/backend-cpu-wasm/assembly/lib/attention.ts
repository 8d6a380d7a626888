// Causal grouped-query attention (the optional `attention` model kernel of
// @sparq/tensor): out [m, H·hd] from q [m, H·hd], k and v [t, Hkv·hd], query
// row r at position qPos0 + r seeing keys j ≤ qPos0 + r (and, with a sliding
// window w, j > qPos0 + r − w). Query head h reads KV head h / (H / Hkv).
//
// Precision: q·k dot products, softmax and the value sum in f32 SIMD (the
// float64 reference differs by ~1e-7 relative): exp by Cephes' expf
// polynomial on 4 scores at a time (the module has no data segments, so no
// table-driven libm), the softmax normaliser summed in f64. A decode step
// (m = 1) at t = 160 with 32 heads of 128 takes ~2 ms in @sparq/lm's scalar
// float64 JS; a 600-token prefill's attention ~2.5 s.
//
// Keys and values are either row-major [t, Hkv·hd] (a per-call copy) or
// head-major [Hkv, capacity, hd] (a resident cache, src/runtime/kv-mirrors.ts):
// head-major reads each head's keys as one sequential stream, where row-major
// reads 512-byte slices 16 KiB apart at 4096-wide rows — one page each, which
// the hardware prefetchers do not follow (at t = 2048, 1.45× slower per call).
//
// Threads split the (row, head) pairs evenly; every output is computed by the
// same code whatever the split, so results do not depend on the thread count.

import { dw } from './descriptor';
import { claim, claimRows } from './work';

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
/** Per-thread scratch: an hd-float accumulator row and t + 3 f32 scores, A_SCRATCH_STRIDE bytes apart. */
const A_SCRATCH: i32 = 11;
const A_SCRATCH_STRIDE: i32 = 12;
/** Bytes from key/value row j to row j + 1 of one KV head, and from KV head h to h + 1 (row-major or head-major caches). */
const A_KV_ROW_STRIDE: i32 = 13;
const A_KV_HEAD_STRIDE: i32 = 14;

/**
 * e^x of 4 scores x ≤ 0 (after subtracting the maximum), f32: x = n·ln2 + r,
 * e^r by Cephes' expf polynomial (|relative error| < 2e-7 on |r| ≤ ln2/2),
 * times 2^n from the exponent bits. x is clamped at −87 (e^−87 ≈ 1.6e−38, next
 * to a largest term of 1), so 2^n stays a normal number.
 */
@inline function exp4(x: v128): v128 {
  const xc = f32x4.max(x, f32x4.splat(-87));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

/** q·k over hd f32 values for one key: four independent SIMD accumulators per 16 values, then the tails. */
@inline function dot1(q: usize, k: usize, hd: i32): f32 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let i: i32 = 0;
  for (; i + 16 <= hd; i += 16) {
    const qi = q + (<usize>i << 2);
    const ki = k + (<usize>i << 2);
    s0 = f32x4.add(s0, f32x4.mul(v128.load(qi), v128.load(ki)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(qi, 16), v128.load(ki, 16)));
    s2 = f32x4.add(s2, f32x4.mul(v128.load(qi, 32), v128.load(ki, 32)));
    s3 = f32x4.add(s3, f32x4.mul(v128.load(qi, 48), v128.load(ki, 48)));
  }
  for (; i + 4 <= hd; i += 4) s0 = f32x4.add(s0, f32x4.mul(v128.load(q + (<usize>i << 2)), v128.load(k + (<usize>i << 2))));
  const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  let d = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
  for (; i < hd; i++) d += load<f32>(q + (<usize>i << 2)) * load<f32>(k + (<usize>i << 2));
  return d;
}

/**
 * Σ_j e_j·v_j of a row-major cache (value rows kW bytes apart, 16 KiB at
 * 4096-wide rows) into the f32 row `acc`: value rows in order, two per pass
 * over `acc`, so each row is read once (passes over all rows per 16
 * dimensions collide in a few cache sets at such strides).
 */
function pvRows(v0: usize, kW: usize, scores: usize, n: i32, hd: i32, acc: usize): void {
  memory.fill(acc, 0, <usize>hd << 2);
  const hd4 = hd & ~3;
  let vp = v0;
  let j: i32 = 0;
  // Two value rows per pass over the accumulator row: half the loads and stores of acc.
  for (; j + 1 < n; j += 2, vp += kW << 1) {
    const ea = load<f32>(scores + (<usize>j << 2));
    const eb = load<f32>(scores + (<usize>(j + 1) << 2));
    const va = f32x4.splat(ea), vb = f32x4.splat(eb);
    const wb = vp + kW;
    let i: i32 = 0;
    for (; i + 4 <= hd4; i += 4) {
      const a = acc + (<usize>i << 2);
      const o4 = <usize>i << 2;
      v128.store(a, f32x4.add(v128.load(a), f32x4.add(f32x4.mul(va, v128.load(vp + o4)), f32x4.mul(vb, v128.load(wb + o4)))));
    }
    for (; i < hd; i++) {
      const a = acc + (<usize>i << 2);
      store<f32>(a, load<f32>(a) + (ea * load<f32>(vp + (<usize>i << 2)) + eb * load<f32>(wb + (<usize>i << 2))));
    }
  }
  if (j < n) {
    const ea = load<f32>(scores + (<usize>j << 2));
    const va = f32x4.splat(ea);
    let i: i32 = 0;
    for (; i + 4 <= hd4; i += 4) {
      const a = acc + (<usize>i << 2);
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(va, v128.load(vp + (<usize>i << 2)))));
    }
    for (; i < hd; i++) {
      const a = acc + (<usize>i << 2);
      store<f32>(a, load<f32>(a) + ea * load<f32>(vp + (<usize>i << 2)));
    }
  }
}

/**
 * Σ_j e_j·v_j of a head-major cache (one head's value rows contiguous) into
 * `acc`: 16 dimensions at a time in four register accumulators over all rows
 * (rows re-read per 16 dimensions from L1/L2; no accumulator loads and stores),
 * then 4 and 1 at a time.
 */
function pvHeadMajor(v0: usize, e: usize, n: i32, hd: i32, acc: usize): void {
  const stride = <usize>hd << 2;
  let i: i32 = 0;
  for (; i + 16 <= hd; i += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let vp = v0 + (<usize>i << 2);
    for (let j: i32 = 0; j < n; j++, vp += stride) {
      const w = f32x4.splat(load<f32>(e + (<usize>j << 2)));
      a0 = f32x4.add(a0, f32x4.mul(w, v128.load(vp)));
      a1 = f32x4.add(a1, f32x4.mul(w, v128.load(vp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(w, v128.load(vp, 32)));
      a3 = f32x4.add(a3, f32x4.mul(w, v128.load(vp, 48)));
    }
    const a = acc + (<usize>i << 2);
    v128.store(a, a0);
    v128.store(a, a1, 16);
    v128.store(a, a2, 32);
    v128.store(a, a3, 48);
  }
  for (; i + 4 <= hd; i += 4) {
    let a0 = f32x4.splat(0);
    let vp = v0 + (<usize>i << 2);
    for (let j: i32 = 0; j < n; j++, vp += stride) a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(load<f32>(e + (<usize>j << 2))), v128.load(vp)));
    v128.store(acc + (<usize>i << 2), a0);
  }
  for (; i < hd; i++) {
    let a: f32 = 0;
    let vp = v0 + (<usize>i << 2);
    for (let j: i32 = 0; j < n; j++, vp += stride) a += load<f32>(e + (<usize>j << 2)) * load<f32>(vp);
    store<f32>(acc + (<usize>i << 2), a);
  }
}

/**
 * The (row, head) pairs of the attention call described at `d` that this
 * thread claims, in chunks from the job's counter (work.ts): with a causal
 * mask a prefill's later rows attend to more keys, so equal shares left the
 * thread with the first rows idle for most of the call.
 */
export function attention(tid: i32, nth: i32, d: usize): void {
  const total = <i32>dw(d, A_M) * <i32>dw(d, A_HEADS);
  const chunk = claimRows(total, nth);
  for (let p0 = claim(chunk); p0 < total; p0 = claim(chunk)) attentionPairs(tid, d, p0, min(total, p0 + chunk));
}

/** (row, head) pairs [p0, p1) of the attention call at `d`, with thread `tid`'s scratch. */
function attentionPairs(tid: i32, d: usize, p0: i32, p1: i32): void {
  const heads = <i32>dw(d, A_HEADS);
  const q = <usize>dw(d, A_Q);
  const k = <usize>dw(d, A_K);
  const v = <usize>dw(d, A_V);
  const out = <usize>dw(d, A_OUT);
  const kvHeads = <i32>dw(d, A_KV_HEADS);
  const hd = <i32>dw(d, A_HD);
  const qPos0 = <i32>dw(d, A_QPOS0);
  const window = <i32>dw(d, A_WINDOW);
  // Per-thread scratch: the accumulator row (hd f32, 64-byte aligned), then the scores (t + 3 f32).
  const acc = <usize>dw(d, A_SCRATCH) + <usize>tid * <usize>dw(d, A_SCRATCH_STRIDE);
  const scores = acc + ((<usize>hd * 4 + 63) & ~(<usize>63));
  const group = heads / kvHeads;
  const qW = <usize>(heads * hd) << 2; // bytes per q / out row
  const kW = <usize>dw(d, A_KV_ROW_STRIDE); // bytes from one key row to the next (of one head)
  const headStride = <usize>dw(d, A_KV_HEAD_STRIDE);
  const scale = <f32>(1 / Math.sqrt(<f64>hd));
  for (let p = p0; p < p1; p++) {
    const r = p / heads;
    const h = p - r * heads;
    const pos = qPos0 + r;
    const first = window > 0 ? max(0, pos - window + 1) : 0;
    const qr = q + <usize>r * qW + (<usize>(h * hd) << 2);
    const ko = <usize>(h / group) * headStride;
    // Scores (f32) and their maximum, then e^(s − max) 4 at a time and its sum. (Four keys per pass over
    // q, their sums transposed into one vector, measured 1.3× slower than one key with 4 accumulators.)
    const n = pos - first + 1;
    let mx: f32 = -Infinity;
    for (let j = 0; j < n; j++) {
      const s1 = dot1(qr, k + <usize>(first + j) * kW + ko, hd) * scale;
      store<f32>(scores + (<usize>j << 2), s1);
      mx = max(mx, s1);
    }
    // Pad the last vector (its lanes past n are zeroed after exp) so exp runs 4 at a time.
    const n4 = (n + 3) & ~3;
    for (let jj = n; jj < n4; jj++) store<f32>(scores + (<usize>jj << 2), -Infinity);
    const mxv = f32x4.splat(mx);
    let sum: f64 = 0;
    let j: i32 = 0;
    for (; j < n4; j += 4) {
      const sp = scores + (<usize>j << 2);
      let e = exp4(f32x4.sub(v128.load(sp), mxv));
      if (j + 4 > n) e = v128.and(e, i32x4.lt_s(i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3)), i32x4.splat(n)));
      v128.store(sp, e);
      sum += <f64>f32x4.extract_lane(e, 0) + <f64>f32x4.extract_lane(e, 1) + (<f64>f32x4.extract_lane(e, 2) + <f64>f32x4.extract_lane(e, 3));
    }
    const inv = <f32>(1 / sum);
    const o = out + <usize>r * qW + (<usize>(h * hd) << 2);
    if (kW == <usize>hd << 2) pvHeadMajor(v + <usize>first * kW + ko, scores, n, hd, acc);
    else pvRows(v + <usize>first * kW + ko, kW, scores, n, hd, acc);
    for (let i: i32 = 0; i < hd; i++) store<f32>(o + (<usize>i << 2), load<f32>(acc + (<usize>i << 2)) * inv);
  }
}
