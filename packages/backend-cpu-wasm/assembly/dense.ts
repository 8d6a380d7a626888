// Dense f32 kernels for the cpu-wasm backend (AssemblyScript → wasm SIMD).
//
// Every matmul is computed as C = A · Wᵀ with A [m, k] and W [n, k] both
// row-major, i.e. every output is a dot product of two contiguous rows. The
// backend stores non-transposed weights transposed once at upload, so one
// kernel family serves both layouts and never packs per call.
//
// Threads: each exported matmul entry takes (tid, nth) and claims chunks of
// output columns (= rows of W) from the job's counter (lib/work.ts), so a
// thread that runs slower computes fewer. Chunks start at multiples of 4
// columns, so the tile grid, and therefore the floating-point summation order
// of every output, is the same for any thread count: results are bit-identical
// for 1 or N threads.
//
// The memory is imported (shared between the main thread and the workers);
// this module has no data segments and no allocator: the JS side owns layout.
//
// The compressed kernels (assembly/lib/packed.ts) and attention
// (assembly/lib/attention.ts) are exported from this same module, so one
// module instance per thread serves every kernel.

import { addOrStore, dot1, gemmMadd, gemvRange, gemvRows4Strided, hsum, KC, NB, stripStride, tile4x1, tile4x2p } from './lib/dense-tiles';
export { packedMatmul, prepareActInt8, preparePanels } from './lib/packed';
export { attention } from './lib/attention';
import { claim, claimRows } from './lib/work';
import { gemvHalf, widenRow } from './lib/half';

/**
 * out [m, n] = a [m, k] · w [n, k]ᵀ, the chunks of output columns this
 * thread claims. m = 1 streams W once (bandwidth-bound GEMV). m > 1 walks
 * k-blocks × column blocks × 4-row strips × 2-column tiles, reading a's
 * strips packed at `ap` by the caller (packStrips; unused for m < 4); rows
 * left over (m mod 4) use the GEMV kernel, which reads their W block from cache.
 */
export function matmul(tid: i32, nth: i32, a: usize, w: usize, out: usize, m: i32, k: i32, n: i32, ap: usize): void {
  // Columns claimed in chunks (lib/work.ts), so a thread that runs slower takes fewer.
  const chunk = claimRows(n, nth);
  for (let j0 = claim(chunk); j0 < n; j0 = claim(chunk)) {
    const j1 = min(n, j0 + chunk);
    if (m == 1) gemvShare(a, w, out, k, j0, j1);
    else gemmColumns(a, w, out, m, k, n, j0, j1, ap);
  }
}

/**
 * The 4-row strips of a [m, k] (rows below m & ~3) for tile4x2p, at dst:
 * strip s at s·k4·16 bytes (k4 = k rounded up to 4), its 4-column chunk c at
 * c·64, row r of the strip at +16·r; columns past k are zeros. Main thread,
 * once per GEMM call.
 */
export function packStrips(a: usize, dst: usize, m: i32, k: i32): void {
  const lda = <usize>k << 2;
  const strip = stripStride(k);
  for (let s: i32 = 0; s < m >> 2; s++) {
    const src = a + <usize>(s << 2) * lda;
    const o = dst + <usize>s * strip;
    let c: i32 = 0;
    for (; c + 4 <= k; c += 4) {
      const q = <usize>c << 2;
      const d = o + (<usize>c << 4);
      v128.store(d, v128.load(src + q));
      v128.store(d, v128.load(src + lda + q), 16);
      v128.store(d, v128.load(src + 2 * lda + q), 32);
      v128.store(d, v128.load(src + 3 * lda + q), 48);
    }
    if (c < k) {
      const d = o + (<usize>c << 4);
      memory.fill(d, 0, 64);
      for (let r: i32 = 0; r < 4; r++) {
        for (let e = c; e < k; e++) store<f32>(d + (<usize>r << 4) + (<usize>(e - c) << 2), load<f32>(src + <usize>r * lda + (<usize>e << 2)));
      }
    }
  }
}

/** Largest batch of half-precision weights that runs the GEMV per activation row (see matmulHalf; HALF_ROW_GEMV_MAX_M in src/kernels/matmul-dense.ts). */
const HALF_ROW_GEMV_MAX_M: i32 = 3;

/**
 * As `matmul`, for W [n, k] stored as f16 or bf16 (`kind`: HALF_* in
 * lib/half.ts), widened exactly to f32 on the way: the GEMV widens in
 * registers (lib/half.ts gemvHalf), and runs once per activation row for
 * batches up to HALF_ROW_GEMV_MAX_M (widening a block of rows to f32 for a
 * handful of activation rows cost 2–4× the GEMV at batch 2); the GEMM widens
 * each block of NB rows into this thread's scratch (NB·k·4 bytes at scratch +
 * tid·that) and runs the f32 GEMM on it, with a's strips packed by the caller
 * (packStrips) after the nth threads' row scratch. Each gives the f32 kernel's result on
 * the widened weights bit for bit — the GEMV's per row, the GEMM's as the f32
 * GEMM (its blocks are the ones gemmColumns walks anyway).
 */
export function matmulHalf(tid: i32, nth: i32, a: usize, w: usize, out: usize, m: i32, k: i32, n: i32, kind: i32, scratch: usize): void {
  const chunk = claimRows(n, nth);
  const lda = <usize>k << 2;
  const ldh = <usize>k << 1;
  const rows = scratch + <usize>tid * <usize>NB * lda;
  const ap = m >= 4 ? scratch + <usize>nth * <usize>NB * lda : 0;
  const ldo = <usize>n << 2;
  for (let j0 = claim(chunk); j0 < n; j0 = claim(chunk)) {
    const j1 = min(n, j0 + chunk);
    if (m <= HALF_ROW_GEMV_MAX_M) {
      // Small batches: the GEMV once per activation row over the claimed chunk (read from memory once), instead
      // of widening every weight row to f32 for a handful of activation rows. Each row equals a one-row call.
      for (let i: i32 = 0; i < m; i++) gemvHalf(a + <usize>i * lda, w, out + <usize>i * ldo, k, j0, j1, kind);
      continue;
    }
    for (let jb = j0; jb < j1; jb += NB) {
      const je = min(jb + NB, j1);
      for (let j = jb; j < je; j++) widenRow(w + <usize>j * ldh, k, kind, rows + <usize>(j - jb) * lda);
      // gemmColumns addresses row j at base + j·lda: shift the base so that row jb is the scratch's first.
      gemmColumns(a, rows - <usize>jb * lda, out, m, k, n, jb, je, ap);
    }
  }
}

/** Output columns [j0, j1) of the GEMM out [m, n] = a [m, k] · w [n, k]ᵀ (m > 1; a's 4-row strips packed at ap). */
function gemmColumns(a: usize, w: usize, out: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32, ap: usize): void {
  const lda = <usize>k << 2;
  const ldo = <usize>n << 2;
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
        const pa = ap + <usize>(i >> 2) * stripStride(k) + (<usize>pc << 4);
        for (; j + 2 <= je; j += 2) tile4x2p(pa, w + <usize>j * lda + po, lda, kc, oi + (<usize>j << 2), ldo, acc);
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

// --- GEMV (m = 1) --------------------------------------------------------------
//
// Streaming W from DRAM is limited by how the loads feed the hardware
// prefetchers and by how many loads the core keeps in flight. Measured on the
// 2-vCPU EPYC VM, one thread (4-stream read loop: 27–28 GB/s): 4 consecutive
// rows, 32 B of each per step, 18.5 GB/s at k = 4096 and 22.5 at k = 11008;
// 12 consecutive rows 16.6 at k = 4096 (rows 16 KiB apart map to one 8-way L1
// set and evict each other); 4 rows spaced share/4 apart, the read probe's
// pattern (each of the 4 regions of the share one long stream across rows),
// 26–27 at k = 4096. So every shape takes 4 rows share/4 apart
// (gemvRows4Strided). 12 consecutive rows had been kept for row strides that
// are not a multiple of 4 KiB, but V8 kept only 7 of their 12 accumulators in
// registers (the others and 5 loaded operands went through the stack every
// step): the strided kernel measured 1.04–1.22× faster at k = 11008 (A/B, 2
// threads). (A share is one claimed chunk of rows, lib/work.ts: ≥ 64 rows on
// large matrices, 16 per stream.)

/**
 * out[j] = a · W[j] for j in [j0, j1): 4 rows spaced share/4 apart
 * (gemvRows4Strided), left-over rows by dot1 (same arithmetic, so results do
 * not depend on the thread split).
 */
function gemvShare(a: usize, w: usize, out: usize, k: i32, j0: i32, j1: i32): void {
  const ld = <usize>k << 2;
  const q = (j1 - j0) >> 2;
  for (let i: i32 = 0; i < q; i++) {
    const j = j0 + i;
    gemvRows4Strided(a, w + <usize>j * ld, <usize>q * ld, k, out + (<usize>j << 2), <usize>q << 2);
  }
  for (let j = j0 + (q << 2); j < j1; j++) store<f32>(out + (<usize>j << 2), dot1(a, w + <usize>j * ld, k));
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
 * Bandwidth probe: sums the chunks of [ptr, ptr + bytes) this thread claims,
 * each as 4 independent sequential streams (the chunk's quarters), 64 B per
 * stream per step into four f32x4 accumulators. Claimed chunks instead of one
 * equal slice per thread: same process, alternating, the probe then read
 * 1.07–1.32× more on 2 threads (a slower thread no longer holds the pass
 * back) and 1.18–1.47× more on 1 thread (streams 8 instead of 64 MiB apart), so the
 * kernels, which claim their rows the same way, are compared with what the
 * machine streams, not with an under-read. Several streams per thread keep more
 * prefetches in flight than one: on the 2-vCPU EPYC VM, same process, interleaved,
 * one stream per thread read 24–26 GB/s on 1 thread and 32–35 / 47–49 on 2 (the
 * VM's 2-thread bandwidth switches between two levels), four streams 27–29 and
 * 35–40 / 56–62 — the best plain read loop we found (8 streams, or 128 B per
 * step, were no better), so "fraction of bandwidth" compares against what a
 * wasm loop can stream here (those figures are from the equal-slice version).
 * A chunk's bytes beyond a multiple of 256 are summed afterwards.
 */
export function readSum(tid: i32, nth: i32, ptr: usize, bytes: usize): f32 {
  // Chunks claimed from the job's counter (lib/work.ts), as the kernels take their rows, so the probe measures
  // what the machine streams when a slower thread reads less: ~1/8 of an equal share, whole 4 KiB pages.
  const chunk = <i32>((bytes / <usize>(nth * 8) + 4095) & ~(<usize>4095));
  let s = f32x4.splat(0);
  for (let c0 = claim(chunk); <usize>c0 < bytes; c0 = claim(chunk)) {
    s = f32x4.add(s, readRange(ptr + <usize>c0, min(<usize>chunk, bytes - <usize>c0)));
  }
  return hsum(s);
}

/** Sum of the f32 in [start, start + len) (len a multiple of 64): 4 streams a quarter apart, a line of each per step. */
function readRange(start: usize, len: usize): v128 {
  const q = len >> 2 & ~63;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  for (let p = start, end = start + q; p < end; p += 64) {
    let r = p;
    s0 = f32x4.add(s0, v128.load(r));
    s1 = f32x4.add(s1, v128.load(r, 16));
    s2 = f32x4.add(s2, v128.load(r, 32));
    s3 = f32x4.add(s3, v128.load(r, 48));
    r += q;
    s0 = f32x4.add(s0, v128.load(r));
    s1 = f32x4.add(s1, v128.load(r, 16));
    s2 = f32x4.add(s2, v128.load(r, 32));
    s3 = f32x4.add(s3, v128.load(r, 48));
    r += q;
    s0 = f32x4.add(s0, v128.load(r));
    s1 = f32x4.add(s1, v128.load(r, 16));
    s2 = f32x4.add(s2, v128.load(r, 32));
    s3 = f32x4.add(s3, v128.load(r, 48));
    r += q;
    s0 = f32x4.add(s0, v128.load(r));
    s1 = f32x4.add(s1, v128.load(r, 16));
    s2 = f32x4.add(s2, v128.load(r, 32));
    s3 = f32x4.add(s3, v128.load(r, 48));
  }
  for (let p = start + 4 * q, end = start + len; p < end; p += 64) {
    s0 = f32x4.add(s0, v128.load(p));
    s1 = f32x4.add(s1, v128.load(p, 16));
    s2 = f32x4.add(s2, v128.load(p, 32));
    s3 = f32x4.add(s3, v128.load(p, 48));
  }
  return f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
}

/**
 * SIMD peak probe: `iters` rounds of the GEMM tile's exact operation mix (6
 * f32x4 loads feeding 8 independent multiply-add chains, gemmMadd: mul + add in
 * the baseline build, one fused relaxed_madd in the relaxed build) on a 96-byte
 * operand block at `p` that stays in L1. So "fraction of peak" compares the GEMM
 * with the best this instruction mix can do here, in either build. 64 flops per round.
 */
export function simdPeak(iters: i32, p: usize): f32 {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let i: i32 = 0; i < iters; i++) {
    const y0 = v128.load(p);
    const y1 = v128.load(p, 16);
    let x = v128.load(p, 32);
    c00 = gemmMadd(c00, x, y0);
    c01 = gemmMadd(c01, x, y1);
    x = v128.load(p, 48);
    c10 = gemmMadd(c10, x, y0);
    c11 = gemmMadd(c11, x, y1);
    x = v128.load(p, 64);
    c20 = gemmMadd(c20, x, y0);
    c21 = gemmMadd(c21, x, y1);
    x = v128.load(p, 80);
    c30 = gemmMadd(c30, x, y0);
    c31 = gemmMadd(c31, x, y1);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)), f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)));
  return hsum(s);
}
