// Dense f32 building blocks shared by the dense and the compressed kernels:
// dot products, the 4-row GEMV kernel and the GEMM register tiles. Not an entry
// point (build-wasm compiles only assembly/*.ts): nothing here is a wasm export.

// k-block and column-block of the GEMM: 4 rows of A × KC floats = 8 KiB stay in
// L1 while the 2-row W tiles stream from an NB × KC block (128 KiB) held in L2.
export const KC: i32 = 512;
export const NB: i32 = 64;

@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * acc + x·y in the GEMM register tiles (tile4x2p, tile4x1: the dense GEMM and
 * the decode-then-tile GEMM of the packed formats; tileSp24 / tileSp24Pair:
 * the sparse 2:4 GEMM): one `relaxed_madd` in the relaxed build — a fused
 * multiply-add on x86 with FMA3, 1.19–1.40× faster dense GEMM and 1.16–1.28×
 * INT4 GEMM here (A/B in one process); with the two-panel sparse tile 1.06–1.13×
 * sparse 2:4 and 1.14–1.20× 2:4 + INT4 GEMM — and a separate multiply and add
 * in the baseline build, so GEMM results differ between the builds by f32
 * rounding. The GEMVs keep fma4 (memory-bound: a fused form measured the same),
 * so they stay bit-identical between builds.
 */
@inline export function gemmMadd(acc: v128, x: v128, y: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, y, acc);
  return f32x4.add(acc, f32x4.mul(x, y));
}

@inline export function fma4(acc: v128, x: v128, y: v128): v128 {
  // wasm SIMD has no fused multiply-add (relaxed-simd is not portable yet).
  return f32x4.add(acc, f32x4.mul(x, y));
}

/**
 * One dot product over k floats: two accumulators taking alternate 4-float
 * chunks, a last 4-float chunk into the first, then scalars — the per-output
 * order of gemvRows4Strided, so either computes any row bit for bit alike.
 */
export function dot1(a: usize, w: usize, k: i32): f32 {
  return dot2Tail(f32x4.splat(0), f32x4.splat(0), a, w, 0, k);
}

/**
 * 4 rows of W `rs` bytes apart (outputs `os` bytes apart): out[r·os] = a · w_r,
 * 64 B of each row per step, then dot1's tail row by row. Per-row
 * arithmetic is dot1's: two accumulators taking alternate 4-float chunks, a
 * last 4-float chunk into the first, then scalars — so left-over rows computed
 * by dot1 match bit for bit. (A/B in one process, 2 threads: an earlier 64 B
 * step, whose code is not kept, had V8 load all 16 operands first and spill
 * half of them and 5 accumulators, and 32 B steps beat it by 1.04–1.11×. This
 * one, two 32 B halves on the same 8 accumulators, beats the 32 B step by
 * 1.04–1.10×, relaxed and baseline, bit-identical. V8 still hoists its 16
 * weight loads and parks a few values on the stack; scheduling stores between
 * the rows measured 0.99–1.04× more, and 128 B steps 0.96–0.99×.)
 */
export function gemvRows4Strided(a: usize, w: usize, rs: usize, k: i32, out: usize, os: usize): void {
  const w0 = w, w1 = w + rs, w2 = w + 2 * rs, w3 = w + 3 * rs;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
  let p: i32 = 0;
  for (; p + 16 <= k; p += 16) {
    const o = <usize>p << 2;
    let x0 = v128.load(a + o);
    let x1 = v128.load(a + o, 16);
    a0 = fma4(a0, x0, v128.load(w0 + o));
    a1 = fma4(a1, x1, v128.load(w0 + o, 16));
    b0 = fma4(b0, x0, v128.load(w1 + o));
    b1 = fma4(b1, x1, v128.load(w1 + o, 16));
    c0 = fma4(c0, x0, v128.load(w2 + o));
    c1 = fma4(c1, x1, v128.load(w2 + o, 16));
    d0 = fma4(d0, x0, v128.load(w3 + o));
    d1 = fma4(d1, x1, v128.load(w3 + o, 16));
    x0 = v128.load(a + o, 32);
    x1 = v128.load(a + o, 48);
    a0 = fma4(a0, x0, v128.load(w0 + o, 32));
    a1 = fma4(a1, x1, v128.load(w0 + o, 48));
    b0 = fma4(b0, x0, v128.load(w1 + o, 32));
    b1 = fma4(b1, x1, v128.load(w1 + o, 48));
    c0 = fma4(c0, x0, v128.load(w2 + o, 32));
    c1 = fma4(c1, x1, v128.load(w2 + o, 48));
    d0 = fma4(d0, x0, v128.load(w3 + o, 32));
    d1 = fma4(d1, x1, v128.load(w3 + o, 48));
  }
  if (p < k) {
    // k % 16 ≠ 0: finish each row as dot1 does.
    store<f32>(out, dot2Tail(a0, a1, a, w0, p, k));
    store<f32>(out + os, dot2Tail(b0, b1, a, w1, p, k));
    store<f32>(out + 2 * os, dot2Tail(c0, c1, a, w2, p, k));
    store<f32>(out + 3 * os, dot2Tail(d0, d1, a, w3, p, k));
    return;
  }
  store<f32>(out, hsum(f32x4.add(a0, a1)));
  store<f32>(out + os, hsum(f32x4.add(b0, b1)));
  store<f32>(out + 2 * os, hsum(f32x4.add(c0, c1)));
  store<f32>(out + 3 * os, hsum(f32x4.add(d0, d1)));
}

/** dot1's remainder from float `p` on, given its two accumulators. */
function dot2Tail(s0: v128, s1: v128, a: usize, w: usize, p: i32, k: i32): f32 {
  for (; p + 8 <= k; p += 8) {
    const o = <usize>p << 2;
    s0 = fma4(s0, v128.load(a + o), v128.load(w + o));
    s1 = fma4(s1, v128.load(a + o, 16), v128.load(w + o, 16));
  }
  for (; p + 4 <= k; p += 4) {
    const o = <usize>p << 2;
    s0 = fma4(s0, v128.load(a + o), v128.load(w + o));
  }
  let s = hsum(f32x4.add(s0, s1));
  for (; p < k; p++) s += load<f32>(a + (<usize>p << 2)) * load<f32>(w + (<usize>p << 2));
  return s;
}

/** out[j] = a · W[j] for j in [j0, j1); j0 a multiple of 4. */
export function gemvRange(a: usize, w: usize, out: usize, k: i32, j0: i32, j1: i32): void {
  const ld = <usize>k << 2;
  let j = j0;
  for (; j + 4 <= j1; j += 4) gemvRows4Strided(a, w + <usize>j * ld, ld, k, out + (<usize>j << 2), 4);
  for (; j < j1; j++) store<f32>(out + (<usize>j << 2), dot1(a, w + <usize>j * ld, k));
}

@inline export function addOrStore(p: usize, v: f32, acc: bool): void {
  store<f32>(p, acc ? load<f32>(p) + v : v);
}

/** Bytes per 4-row strip of a [m, k] packed by packStrips (dense.ts): k rounded up to 4 columns, 16 bytes each. */
@inline export function stripStride(k: i32): usize {
  return <usize>((k + 3) & ~3) << 4;
}

/**
 * Register tile: 4 rows of A (one strip packed by packStrips in dense.ts: per
 * 4 columns the 4 rows' 16 bytes in turn) × 2 rows of W over kc floats, one
 * f32x4 accumulator per output (8 live vectors + 6 loaded operands fit the 15
 * vector registers V8 allocates; V8 issues an iteration's loads before its
 * multiply-adds, so wider tiles — 5×2, 6×2, or this one over 8 columns per
 * iteration — spilled and ran 0.57–0.69× as fast). The strip is read through
 * one pointer with immediate offsets: with a pointer per row, each load cost
 * an address instruction too and the loop was front-end-bound (1.02–1.17×
 * slower).
 */
export function tile4x2p(pa: usize, w: usize, ldw: usize, kc: i32, out: usize, ldo: usize, acc: bool): void {
  const w0 = w, w1 = w + ldw;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let p: i32 = 0;
  let x = pa;
  for (; p + 4 <= kc; p += 4, x += 64) {
    const o = <usize>p << 2;
    const y0 = v128.load(w0 + o);
    const y1 = v128.load(w1 + o);
    let v = v128.load(x);
    c00 = gemmMadd(c00, v, y0);
    c01 = gemmMadd(c01, v, y1);
    v = v128.load(x, 16);
    c10 = gemmMadd(c10, v, y0);
    c11 = gemmMadd(c11, v, y1);
    v = v128.load(x, 32);
    c20 = gemmMadd(c20, v, y0);
    c21 = gemmMadd(c21, v, y1);
    v = v128.load(x, 48);
    c30 = gemmMadd(c30, v, y0);
    c31 = gemmMadd(c31, v, y1);
  }
  let s00 = hsum(c00), s01 = hsum(c01), s10 = hsum(c10), s11 = hsum(c11);
  let s20 = hsum(c20), s21 = hsum(c21), s30 = hsum(c30), s31 = hsum(c31);
  for (; p < kc; p++) {
    const o = <usize>p << 2;
    const e = x + (<usize>(p & 3) << 2);
    const y0 = load<f32>(w0 + o), y1 = load<f32>(w1 + o);
    const x0 = load<f32>(e), x1 = load<f32>(e, 16), x2 = load<f32>(e, 32), x3 = load<f32>(e, 48);
    s00 += x0 * y0; s01 += x0 * y1;
    s10 += x1 * y0; s11 += x1 * y1;
    s20 += x2 * y0; s21 += x2 * y1;
    s30 += x3 * y0; s31 += x3 * y1;
  }
  addOrStore(out, s00, acc); addOrStore(out + 4, s01, acc);
  addOrStore(out + ldo, s10, acc); addOrStore(out + ldo + 4, s11, acc);
  addOrStore(out + 2 * ldo, s20, acc); addOrStore(out + 2 * ldo + 4, s21, acc);
  addOrStore(out + 3 * ldo, s30, acc); addOrStore(out + 3 * ldo + 4, s31, acc);
}

/** 4 rows of A × 1 row of W (the odd last column of a share). */
export function tile4x1(a: usize, lda: usize, w: usize, kc: i32, out: usize, ldo: usize, acc: bool): void {
  const a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let p: i32 = 0;
  for (; p + 4 <= kc; p += 4) {
    const o = <usize>p << 2;
    const y = v128.load(w + o);
    c0 = gemmMadd(c0, v128.load(a0 + o), y);
    c1 = gemmMadd(c1, v128.load(a1 + o), y);
    c2 = gemmMadd(c2, v128.load(a2 + o), y);
    c3 = gemmMadd(c3, v128.load(a3 + o), y);
  }
  let s0 = hsum(c0), s1 = hsum(c1), s2 = hsum(c2), s3 = hsum(c3);
  for (; p < kc; p++) {
    const o = <usize>p << 2;
    const y = load<f32>(w + o);
    s0 += load<f32>(a0 + o) * y;
    s1 += load<f32>(a1 + o) * y;
    s2 += load<f32>(a2 + o) * y;
    s3 += load<f32>(a3 + o) * y;
  }
  addOrStore(out, s0, acc);
  addOrStore(out + ldo, s1, acc);
  addOrStore(out + 2 * ldo, s2, acc);
  addOrStore(out + 3 * ldo, s3, acc);
}

