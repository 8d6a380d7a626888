/**
 * Layout of the control block at byte 0 of the pool's first shared memory: the
 * mailbox through which the main thread hands a job to the workers. Int32
 * slots. Every other memory of the pool reserves the same bytes unused.
 */
export const CTL = {
  /** Job generation; workers `Atomics.wait` on it and run a job when it changes. */
  GEN: 0,
  /** Number of workers that finished the current job; the main thread waits on it. */
  DONE: 1,
  /** Set to 1 by dispose(): workers leave their loop. */
  STOP: 2,
  /** Job kind, one of {@link JOB}. */
  KIND: 3,
  /** Set to 1 by a worker whose job threw. */
  ERROR: 4,
  /** Number of threads taking part in the job (main thread included). */
  NTH: 5,
  /** Index of the wasm memory (module instance) the job runs in; see ThreadPool.attach. */
  MEM: 6,
  /** First of 8 u32 job arguments. */
  ARGS: 8,
  /** First of 64 f32 per-thread results (probes). */
  RESULTS: 16,
  /**
   * The job's work counter (byte 1024, a cache line of its own), in the job's
   * memory: the matmul and attention kernels claim rows or (row, head) pairs
   * from it in chunks, the read probe bytes (assembly/lib/work.ts
   * WORK_COUNTER); ThreadPool.run zeroes it before every job.
   */
  WORK: 256,
} as const;

/** Byte offset of the 96-byte read-only operand block of the SIMD peak probe. */
export const PROBE_OPERANDS = 2048;

/** Bytes reserved for the control block; the heap starts after it. */
export const CTL_BYTES = 4096;

/** Job kinds. */
export const JOB = {
  /** Dense f32 matmul: a, w, out, m, k, n, and a's packed 4-row strips (0 for the GEMV; assembly/dense.ts matmul). */
  MATMUL: 1,
  READ_SUM: 2,
  SIMD_PEAK: 3,
  /** Compressed matmul; argument 0 is the descriptor pointer (assembly/lib/packed.ts). */
  PACKED: 4,
  /** Workers instantiate the module on the memory just posted to their port (ThreadPool.attach). */
  ATTACH: 5,
  /** Attention; argument 0 is the descriptor pointer (assembly/lib/attention.ts). */
  ATTENTION: 6,
  /** Dense matmul with f16 / bf16 weights: MATMUL's first 6 arguments, then the half kind and the GEMM scratch (assembly/dense.ts matmulHalf). */
  MATMUL_HALF: 7,
} as const;

/** A job kind. */
export type JobKind = (typeof JOB)[keyof typeof JOB];
