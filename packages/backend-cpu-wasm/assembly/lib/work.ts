// Dynamic scheduling for the multi-threaded kernels: matmuls (dense and packed, GEMV and GEMM) claim rows of W,
// attention (row, head) pairs, the read probe bytes.
//
// A static split (thread t takes the t-th equal share of rows) finishes when
// the slowest thread does. On the shared 2-vCPU VM the two threads of one
// GEMV often ran at different speeds, and the faster one then idled: with the
// baseline build the main thread finished its half of the 2:4 + INT4 GEMV
// (4096²) in 0.41 ms and the worker in 0.62 ms, call after call, whichever half
// each took (the cause is not pinned down: the host's scheduling of the vCPUs,
// or the worker first reading activations the main thread had just written).
// The dense GEMM was worse: one thread finished its half of a 4096² × batch
// 128 product 38 ms (median) before the other, of 128 ms. So the kernels hand
// out rows of W (output columns) in chunks from one counter per job: a thread
// that runs slower simply claims fewer chunks. Every row is computed by
// the same operations whichever thread claims it, so results stay
// bit-identical for any thread count.

/**
 * Byte address of the job's work counter in every memory of the pool: a u32 in
 * the reserved control block, on a cache line of its own (CTL.WORK in
 * src/runtime/control-block.ts). The pool zeroes it before each job.
 */
const WORK_COUNTER: usize = 1024;

/**
 * Rows per claim for `n` rows on `nth` threads: about 8 claims per thread (an
 * idle tail of at most one chunk, ~1/16 of the work on 2 threads), a multiple
 * of 4 rows (the kernels' quads, so row tails only occur at the end of the
 * matrix, as with the static split), and whole 64-row blocks once that large
 * (the Q4 and 2:4 + INT4 layouts' blocks of 16 quads / 8 octets).
 */
@inline export function claimRows(n: i32, nth: i32): i32 {
  const c = (((n + nth * 8 - 1) / (nth * 8)) + 3) & ~3;
  return c > 64 ? (c + 63) & ~63 : c;
}

/** Claims the next `chunk` units (rows, pairs, bytes) of the job: returns the first (the total or more once all are taken). */
@inline export function claim(chunk: i32): i32 {
  return <i32>atomic.add<u32>(WORK_COUNTER, <u32>chunk);
}
