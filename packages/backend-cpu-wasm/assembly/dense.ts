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
//
// The compressed kernels (assembly/lib/packed.ts) are exported from this same
// module, so one module instance per thread serves every kernel.

import { addOrStore, fma4, gemvRange, hsum, KC, NB, shareStart, tile4x1, tile4x2 } from './lib/dense-tiles';
export { packedMatmul, prepareActInt8, prepareNM24Pairs, preparePanels } from './lib/packed';

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
