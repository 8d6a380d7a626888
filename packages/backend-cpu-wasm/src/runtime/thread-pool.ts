/**
 * A pool of `worker_threads` sharing wasm memories with the main thread. A
 * job is posted through the control block (see control-block.ts); the main
 * thread computes share 0 itself and then waits synchronously for the workers,
 * so a matmul costs one futex wake and one futex wait, no message passing.
 *
 * One wasm32 memory holds at most 4 GiB, so the pool can serve several: every
 * thread holds one module instance per memory (`attach`), and a job names the
 * memory it runs in. The control block lives in the first memory.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
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
  /** Main-thread side of each worker's port for `attach` (parallel to `workers`). */
  private readonly ports: MessagePort[] = [];
  /** Main-thread module instance per attached memory (index = memory id of jobs). */
  private readonly exs: DenseExports[];
  /** Control-block words of each attached memory (same index), for the job's row counter CTL.WORK. */
  private readonly words: Int32Array[];

  /** Creates (but does not start) a pool of `threads - 1` workers on `memory` (memory id 0, instance `ex`). */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    ex: DenseExports,
    threads: number,
  ) {
    this.exs = [ex];
    this.words = [new Int32Array(memory.buffer, 0, CTL.WORK + 1)];
    this.threads = Math.max(1, Math.floor(threads));
    this.ctl = new Int32Array(memory.buffer, 0, 128);
    this.res = new Float32Array(memory.buffer, 0, 128);
  }

  /** Spawns the workers and resolves once each has instantiated the module. */
  async start(): Promise<void> {
    Atomics.store(this.ctl, CTL.STOP, 0);
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < this.threads; tid++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: this.module, memory: this.memory, tid, port: port2 },
        transferList: [port2],
      });
      // Idle workers must never keep the process alive.
      w.unref();
      port1.unref();
      this.workers.push(w);
      this.ports.push(port1);
      ready.push(
        new Promise((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', (e) => reject(new SparqError('E_INTERNAL', `cpu-wasm worker ${tid} failed to start`, { cause: e })));
        }),
      );
    }
    await Promise.all(ready);
  }

  /** Number of memories the pool serves (valid `mem` ids are 0 … count − 1). */
  get memoryCount(): number {
    return this.exs.length;
  }

  /**
   * Makes `memory` (a shared memory the module can import) available to jobs:
   * instantiates the module on it here and in every worker. Returns its memory
   * id for `run`. Call only after `start()`.
   */
  attach(memory: WebAssembly.Memory, ex: DenseExports): number {
    if (this.workers.length > 0) {
      for (const p of this.ports) p.postMessage(memory);
      this.post(JOB.ATTACH, [], this.threads, 0);
      this.waitWorkers();
      if (this.ctl[CTL.ERROR] !== 0) throw new SparqError('E_INTERNAL', 'cpu-wasm: a worker failed to instantiate the module on a new memory');
    }
    this.exs.push(ex);
    this.words.push(new Int32Array(memory.buffer, 0, CTL.WORK + 1));
    return this.exs.length - 1;
  }

  /**
   * Runs one job on `nth` threads (clamped to the pool size) in memory `mem`
   * and returns when all are done. Share 0 runs here; a worker with
   * `tid ≥ nth` only acknowledges.
   */
  run(kind: JobKind, args: readonly number[], nth = this.threads, mem = 0): void {
    nth = Math.max(1, Math.min(nth, this.threads));
    const ex = this.exs[mem];
    if (!ex) throw new SparqError('E_INTERNAL', `cpu-wasm: job for unknown memory ${mem} (pool has ${this.exs.length})`);
    // A fresh work counter for the job's claims (CTL.WORK), published to the workers with the job (post's seq-cst add).
    this.words[mem]![CTL.WORK] = 0;
    if (this.workers.length === 0 || nth === 1) {
      this.runShare(ex, kind, args, 0, 1);
      return;
    }
    this.post(kind, args, nth, mem);
    let mainError: unknown;
    try {
      this.runShare(ex, kind, args, 0, nth);
    } catch (e) {
      mainError = e;
    }
    this.waitWorkers();
    if (mainError !== undefined) throw mainError;
    if (this.ctl[CTL.ERROR] !== 0) throw new SparqError('E_INTERNAL', 'cpu-wasm: a worker thread failed while running a kernel');
  }

  /** Publishes a job to the workers and wakes them. */
  private post(kind: JobKind, args: readonly number[], nth: number, mem: number): void {
    const ctl = this.ctl;
    ctl[CTL.KIND] = kind;
    ctl[CTL.NTH] = nth;
    ctl[CTL.MEM] = mem;
    ctl[CTL.ERROR] = 0;
    for (let i = 0; i < args.length; i++) ctl[CTL.ARGS + i] = args[i]! | 0;
    Atomics.store(ctl, CTL.DONE, 0);
    // The seq-cst add publishes the plain stores above before any worker reads them.
    Atomics.add(ctl, CTL.GEN, 1);
    Atomics.notify(ctl, CTL.GEN);
  }

  /** Waits until every worker acknowledged the current job: a short spin, then the futex. */
  private waitWorkers(): void {
    const ctl = this.ctl;
    const want = this.workers.length;
    let spins = 0;
    for (let d = Atomics.load(ctl, CTL.DONE); d < want; d = Atomics.load(ctl, CTL.DONE)) {
      if (spins++ < MAIN_SPIN) continue;
      Atomics.wait(ctl, CTL.DONE, d, 50);
    }
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
    for (const p of this.ports) p.close();
    this.workers.length = 0;
    this.ports.length = 0;
  }

  private runShare(ex: DenseExports, kind: JobKind, args: readonly number[], tid: number, nth: number): void {
    const u = (i: number): number => args[i]! >>> 0;
    switch (kind) {
      case JOB.MATMUL:
        ex.matmul(tid, nth, u(0), u(1), u(2), u(3), u(4), u(5), u(6));
        break;
      case JOB.READ_SUM:
        this.res[CTL.RESULTS + tid] = ex.readSum(tid, nth, u(0), u(1));
        break;
      case JOB.SIMD_PEAK:
        this.res[CTL.RESULTS + tid] = ex.simdPeak(u(0), PROBE_OPERANDS);
        break;
      case JOB.PACKED:
        ex.packedMatmul(tid, nth, u(0));
        break;
      case JOB.ATTENTION:
        ex.attention(tid, nth, u(0));
        break;
      case JOB.MATMUL_HALF:
        ex.matmulHalf(tid, nth, u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7));
        break;
    }
  }
}
