/**
 * A pool of `worker_threads` sharing one wasm memory with the main thread. A
 * job is posted through the control block (see control-block.ts); the main
 * thread computes share 0 itself and then waits synchronously for the workers,
 * so a matmul costs one futex wake and one futex wait, no message passing.
 */
import { Worker } from 'node:worker_threads';
import { SparqError } from '@sparq/tensor';
import { CTL, JOB, PROBE_OPERANDS, type JobKind } from './control-block';
import type { DenseExports } from './wasm-module';
import { WORKER_SOURCE } from './worker-source';

/** Spin iterations of the main thread before it sleeps waiting for workers. */
const MAIN_SPIN = 20000;

/** Runs jobs on the main thread plus `workers` worker threads. */
export class ThreadPool {
  /** Threads including the main thread. */
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly res: Float32Array;
  private readonly workers: Worker[] = [];

  /** Creates (but does not start) a pool of `threads - 1` workers. */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly ex: DenseExports,
    threads: number,
  ) {
    this.threads = Math.max(1, Math.floor(threads));
    this.ctl = new Int32Array(memory.buffer, 0, 128);
    this.res = new Float32Array(memory.buffer, 0, 128);
  }

  /** Spawns the workers and resolves once each has instantiated the module. */
  async start(): Promise<void> {
    Atomics.store(this.ctl, CTL.STOP, 0);
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < this.threads; tid++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: this.module, memory: this.memory, tid } });
      // Idle workers must never keep the process alive.
      w.unref();
      this.workers.push(w);
      ready.push(
        new Promise((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', (e) => reject(new SparqError('E_INTERNAL', `cpu-wasm worker ${tid} failed to start`, { cause: e })));
        }),
      );
    }
    await Promise.all(ready);
  }

  /**
   * Runs one job on `nth` threads (clamped to the pool size) and returns when
   * all are done. Share 0 runs here; a worker with `tid ≥ nth` only acknowledges.
   */
  run(kind: JobKind, args: readonly number[], nth = this.threads): void {
    nth = Math.max(1, Math.min(nth, this.threads));
    const ctl = this.ctl;
    if (this.workers.length === 0 || nth === 1) {
      this.runShare(kind, args, 0, 1);
      return;
    }
    ctl[CTL.KIND] = kind;
    ctl[CTL.NTH] = nth;
    ctl[CTL.ERROR] = 0;
    for (let i = 0; i < args.length; i++) ctl[CTL.ARGS + i] = args[i]! | 0;
    Atomics.store(ctl, CTL.DONE, 0);
    // The seq-cst add publishes the plain stores above before any worker reads them.
    Atomics.add(ctl, CTL.GEN, 1);
    Atomics.notify(ctl, CTL.GEN);
    let mainError: unknown;
    try {
      this.runShare(kind, args, 0, nth);
    } catch (e) {
      mainError = e;
    }
    const want = this.workers.length;
    let spins = 0;
    for (let d = Atomics.load(ctl, CTL.DONE); d < want; d = Atomics.load(ctl, CTL.DONE)) {
      if (spins++ < MAIN_SPIN) continue;
      Atomics.wait(ctl, CTL.DONE, d, 50);
    }
    if (mainError !== undefined) throw mainError;
    if (ctl[CTL.ERROR] !== 0) throw new SparqError('E_INTERNAL', 'cpu-wasm: a worker thread failed while running a kernel');
  }

  /** Per-thread f32 result slot of the last probe job. */
  result(tid: number): number {
    return this.res[CTL.RESULTS + tid]!;
  }

  /** Stops and terminates the workers. */
  async dispose(): Promise<void> {
    Atomics.store(this.ctl, CTL.STOP, 1);
    Atomics.add(this.ctl, CTL.GEN, 1);
    Atomics.notify(this.ctl, CTL.GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private runShare(kind: JobKind, args: readonly number[], tid: number, nth: number): void {
    const u = (i: number): number => args[i]! >>> 0;
    switch (kind) {
      case JOB.MATMUL:
        this.ex.matmul(tid, nth, u(0), u(1), u(2), u(3), u(4), u(5));
        break;
      case JOB.READ_SUM:
        this.res[CTL.RESULTS + tid] = this.ex.readSum(tid, nth, u(0), u(1));
        break;
      case JOB.SIMD_PEAK:
        this.res[CTL.RESULTS + tid] = this.ex.simdPeak(u(0), PROBE_OPERANDS);
        break;
      case JOB.PACKED:
        this.ex.packedMatmul(tid, nth, u(0));
        break;
    }
  }
}
