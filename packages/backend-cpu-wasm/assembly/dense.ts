// Dense f32 kernels for the cpu-wasm backend (AssemblyScript → wasm SIMD).
//
// Every matmul is computed as C = A · Wᵀ with A [m, k] and W [n, k] both
// row-major, i.e. every output is a dot product of two contiguous rows. The
// backend stores non-transposed weights transposed once at upload, so one
// kernel family serves both layouts and never packs per call.
//
// Threads: each exported entry takes (tid, nth) and computes its own share of
// output columns (= rows of W). Shares start at multiples of 4 columns, so the
// tile grid, and therefore the floating-point summation order of every output,
// is the same for any thread count: results are bit-identical for 1 or N threads.
//
// The memory is imported (shared between the main thread and the workers);
// this module has no data segments and no allocator: the JS side owns layout.

// k-block and column-block of the GEMM: 4 rows of A × KC floats = 8 KiB stay in
// L1 while the 2-row W tiles stream from an NB × KC block (128 KiB) held in L2.
const KC: i32 = 512;
const NB: i32 = 64;

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function fma4(acc: v128, x: v128, y: v128): v128 {
  // wasm SIMD has no fused multiply-add (relaxed-simd is not portable yet).
  return f32x4.add(acc, f32x4.mul(x, y));
}

/** One dot product over k floats; the same per-output order as gemvRows4. */
function dot1(a: usize, w: usize, k: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let p: i32 = 0;
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

/**
 * GEMV on 4 rows of W at once: out[r] = a · w_r. Two accumulators per row
 * (8 live vectors) hide the add latency; one load of `a` feeds four rows.
 * Per-row arithmetic is identical to dot1.
 */
function gemvRows4(a: usize, w: usize, k: i32, out: usize): void {
  const ld = <usize>k << 2;
  const w0 = w, w1 = w + ld, w2 = w + 2 * ld, w3 = w + 3 * ld;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let d0 = f32x4.splat(0), d1 = f32x4.splat(0);
  let p: i32 = 0;
  for (; p + 8 <= k; p += 8) {
    const o = <usize>p << 2;
    const x0 = v128.load(a + o);
    const x1 = v128.load(a + o, 16);
    a0 = fma4(a0, x0, v128.load(w0 + o));
    a1 = fma4(a1, x1, v128.load(w0 + o, 16));
    b0 = fma4(b0, x0, v128.load(w1 + o));
    b1 = fma4(b1, x1, v128.load(w1 + o, 16));
    c0 = fma4(c0, x0, v128.load(w2 + o));
    c1 = fma4(c1, x1, v128.load(w2 + o, 16));
    d0 = fma4(d0, x0, v128.load(w3 + o));
    d1 = fma4(d1, x1, v128.load(w3 + o, 16));
  }
  for (; p + 4 <= k; p += 4) {
    const o = <usize>p << 2;
    const x0 = v128.load(a + o);
    a0 = fma4(a0, x0, v128.load(w0 + o));
    b0 = fma4(b0, x0, v128.load(w1 + o));
    c0 = fma4(c0, x0, v128.load(w2 + o));
    d0 = fma4(d0, x0, v128.load(w3 + o));
  }
  let sa = hsum(f32x4.add(a0, a1));
  let sb = hsum(f32x4.add(b0, b1));
  let sc = hsum(f32x4.add(c0, c1));
  let sd = hsum(f32x4.add(d0, d1));
  for (; p < k; p++) {
    const o = <usize>p << 2;
    const x = load<f32>(a + o);
    sa += x * load<f32>(w0 + o);
    sb += x * load<f32>(w1 + o);
    sc += x * load<f32>(w2 + o);
    sd += x * load<f32>(w3 + o);
  }
  store<f32>(out, sa);
  store<f32>(out, sb, 4);
  store<f32>(out, sc, 8);
  store<f32>(out, sd, 12);
}

/** out[j] = a · W[j] for j in [j0, j1); j0 a multiple of 4. */
function gemvRange(a: usize, w: usize, out: usize, k: i32, j0: i32, j1: i32): void {
  const ld = <usize>k << 2;
  let j = j0;
  for (; j + 4 <= j1; j += 4) gemvRows4(a, w + <usize>j * ld, k, out + (<usize>j << 2));
  for (; j < j1; j++) store<f32>(out + (<usize>j << 2), dot1(a, w + <usize>j * ld, k));
}

@inline function addOrStore(p: usize, v: f32, acc: bool): void {
  store<f32>(p, acc ? load<f32>(p) + v : v);
}

/**
 * Register tile: 4 rows of A × 2 rows of W over kc floats, one f32x4
 * accumulator per output (8 live vectors + 6 loaded operands fit the 16 x86
 * vector registers). 6 loads feed 8 mul+add pairs, so the tile is FP-bound.
 */
function tile4x2(a: usize, lda: usize, w: usize, ldw: usize, kc: i32, out: usize, ldo: usize, acc: bool): void {
  const a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
  const w0 = w, w1 = w + ldw;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let p: i32 = 0;
  for (; p + 4 <= kc; p += 4) {
    const o = <usize>p << 2;
    const y0 = v128.load(w0 + o);
    const y1 = v128.load(w1 + o);
    let x = v128.load(a0 + o);
    c00 = fma4(c00, x, y0);
    c01 = fma4(c01, x, y1);
    x = v128.load(a1 + o);
    c10 = fma4(c10, x, y0);
    c11 = fma4(c11, x, y1);
    x = v128.load(a2 + o);
    c20 = fma4(c20, x, y0);
    c21 = fma4(c21, x, y1);
    x = v128.load(a3 + o);
    c30 = fma4(c30, x, y0);
    c31 = fma4(c31, x, y1);
  }
  let s00 = hsum(c00), s01 = hsum(c01), s10 = hsum(c10), s11 = hsum(c11);
  let s20 = hsum(c20), s21 = hsum(c21), s30 = hsum(c30), s31 = hsum(c31);
  for (; p < kc; p++) {
    const o = <usize>p << 2;
    const y0 = load<f32>(w0 + o), y1 = load<f32>(w1 + o);
    const x0 = load<f32>(a0 + o), x1 = load<f32>(a1 + o), x2 = load<f32>(a2 + o), x3 = load<f32>(a3 + o);
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
function tile4x1(a: usize, lda: usize, w: usize, kc: i32, out: usize, ldo: usize, acc: bool): void {
  const a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let p: i32 = 0;
  for (; p + 4 <= kc; p += 4) {
    const o = <usize>p << 2;
    const y = v128.load(w + o);
    c0 = fma4(c0, v128.load(a0 + o), y);
    c1 = fma4(c1, v128.load(a1 + o), y);
    c2 = fma4(c2, v128.load(a2 + o), y);
    c3 = fma4(c3, v128.load(a3 + o), y);
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

/** Column share [j0, j1) of thread `tid`: quads of 4 columns split evenly. */
@inline function shareStart(tid: i32, nth: i32, n: i32): i32 {
  const quads = (n + 3) >> 2;
  return min(n, <i32>((<i64>quads * tid) / nth) << 2);
}

/**
 * out [m, n] = a [m, k] · w [n, k]ᵀ, this thread's share of output columns.
 * m = 1 streams W once (bandwidth-bound GEMV). m > 1 walks k-blocks × column
 * blocks × 4-row strips × 2-column tiles; rows left over (m mod 4) use the GEMV
 * kernel, which reads their W block from cache.
 */
export function matmul(tid: i32, nth: i32, a: usize, w: usize, out: usize, m: i32, k: i32, n: i32): void {
  const j0 = shareStart(tid, nth, n);
  const j1 = shareStart(tid + 1, nth, n);
  if (j0 >= j1) return;
  const lda = <usize>k << 2;
  const ldo = <usize>n << 2;
  if (m == 1) {
    gemvRange(a, w, out, k, j0, j1);
    return;
  }
  const m4 = m & ~3;
  for (let pc: i32 = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const acc = pc > 0;
    const po = <usize>pc << 2;
    for (let jb = j0; jb < j1; jb += NB) {
      const je = min(jb + NB, j1);
      for (let i: i32 = 0; i < m4; i += 4) {
        const ai = a + <usize>i * lda + po;
        const oi = out + <usize>i * ldo;
        let j = jb;
        for (; j + 2 <= je; j += 2) tile4x2(ai, lda, w + <usize>j * lda + po, lda, kc, oi + (<usize>j << 2), ldo, acc);
        if (j < je) tile4x1(ai, lda, w + <usize>j * lda + po, kc, oi + (<usize>j << 2), ldo, acc);
      }
    }
  }
  // Left-over rows: one GEMV each over the whole k, per column block so that
  // the W block is shared by the (at most 3) rows while it is in cache.
  if (m4 < m) {
    for (let jb = j0; jb < j1; jb += NB) {
      const je = min(jb + NB, j1);
      for (let i = m4; i < m; i++) gemvRange(a + <usize>i * lda, w, out + <usize>i * ldo, k, jb, je);
    }
  }
}

/** dst [cols, rows] = srcᵀ for src [rows, cols], in 16×16 blocks to keep both sides in cache. */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let r0: i32 = 0; r0 < rows; r0 += 16) {
    const r1 = min(r0 + 16, rows);
    for (let c0: i32 = 0; c0 < cols; c0 += 16) {
      const c1 = min(c0 + 16, cols);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          store<f32>(dst + ((<usize>c * rows + r) << 2), load<f32>(src + ((<usize>r * cols + c) << 2)));
        }
      }
    }
  }
}

/**
 * Bandwidth probe: sums this thread's slice of [ptr, ptr + bytes) with four
 * independent f32x4 accumulators (64 B per iteration). `bytes` is a multiple of 64·nth.
 */
export function readSum(tid: i32, nth: i32, ptr: usize, bytes: usize): f32 {
  const per = bytes / <usize>nth & ~63;
  let p = ptr + per * <usize>tid;
  const end = p + per;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  for (; p < end; p += 64) {
    s0 = f32x4.add(s0, v128.load(p));
    s1 = f32x4.add(s1, v128.load(p, 16));
    s2 = f32x4.add(s2, v128.load(p, 32));
    s3 = f32x4.add(s3, v128.load(p, 48));
  }
  return hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
}

/**
 * SIMD peak probe: `iters` rounds of the GEMM tile's exact operation mix (6
 * f32x4 loads feeding 8 independent mul+add chains) on a 96-byte operand block
 * at `p` that stays in L1. So "fraction of peak" compares the GEMM with the best
 * this instruction mix can do here. 64 flops per round.
 */
export function simdPeak(iters: i32, p: usize): f32 {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let i: i32 = 0; i < iters; i++) {
    const y0 = v128.load(p);
    const y1 = v128.load(p, 16);
    let x = v128.load(p, 32);
    c00 = fma4(c00, x, y0);
    c01 = fma4(c01, x, y1);
    x = v128.load(p, 48);
    c10 = fma4(c10, x, y0);
    c11 = fma4(c11, x, y1);
    x = v128.load(p, 64);
    c20 = fma4(c20, x, y0);
    c21 = fma4(c21, x, y1);
    x = v128.load(p, 80);
    c30 = fma4(c30, x, y0);
    c31 = fma4(c31, x, y1);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)), f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)));
  return hsum(s);
}
