/**
 * Source of the worker thread, run with `new Worker(code, { eval: true })` so it
 * works identically from TS sources (vitest) and from the tsup bundle, with no
 * extra file to locate. The worker instantiates the shared module on the shared
 * memory (and on every memory attached later: ATTACH jobs, see ThreadPool.attach)
 * and loops: wait for a new job generation, run its part in the job's memory,
 * count itself done. It spins briefly before `Atomics.wait` (a futex) because back-to-back
 * matmuls of one token arrive microseconds apart, but only briefly: on a shared
 * 2-vCPU machine a spinning pool steals the core the main thread needs.
 */
import { CTL, JOB, PROBE_OPERANDS } from './control-block';

/**
 * Spin iterations before sleeping on the futex: about 110 µs on the 2-vCPU
 * EPYC VM (an `Atomics.load` poll takes ~5.5 ns in a worker under Node 20),
 * long enough that back-to-back matmuls of one token (a few µs of JS apart)
 * find the worker awake (a sleeping worker costs ~50–100 µs to wake here),
 * short enough not to hog a shared core between tokens. Ten times longer
 * measured no faster in a process of its own (INT4 GEMV, 2 threads).
 */
export const WORKER_SPIN = 20000;

/**
 * The worker program. An eval'd worker is parsed as CommonJS, or as an ES module when the parent runs with
 * `--input-type=module` (node -e with ESM), so it uses neither `require` nor top-level `await`: one async
 * function, which imports node:worker_threads and then never yields again.
 */
export const WORKER_SOURCE = `
'use strict';
(async () => {
const { workerData, parentPort, receiveMessageOnPort } = await import('node:worker_threads');
const { module, memory, tid, port } = workerData;
// One module instance per wasm memory of the pool; jobs name theirs in ctl[MEM].
const exs = [new WebAssembly.Instance(module, { env: { memory } }).exports];
const ctl = new Int32Array(memory.buffer, 0, 128);
const f32 = new Float32Array(memory.buffer, 0, 128);
const GEN = ${CTL.GEN}, DONE = ${CTL.DONE}, STOP = ${CTL.STOP}, KIND = ${CTL.KIND}, ERROR = ${CTL.ERROR};
const NTH = ${CTL.NTH}, MEM = ${CTL.MEM}, ARGS = ${CTL.ARGS}, RESULTS = ${CTL.RESULTS};
let gen = Atomics.load(ctl, GEN);
parentPort.postMessage('ready');
for (;;) {
  for (let i = 0; i < ${WORKER_SPIN} && Atomics.load(ctl, GEN) === gen; i++);
  while (Atomics.load(ctl, GEN) === gen) Atomics.wait(ctl, GEN, gen);
  gen = Atomics.load(ctl, GEN);
  if (Atomics.load(ctl, STOP) !== 0) break;
  const nth = ctl[NTH];
  try {
    if (ctl[KIND] === ${JOB.ATTACH}) {
      // This loop never yields to the event loop, so the new memory is read from the port synchronously.
      let msg;
      for (let i = 0; !(msg = receiveMessageOnPort(port)) && i < 1e7; i++);
      if (!msg) throw new Error('no memory posted for ATTACH');
      exs.push(new WebAssembly.Instance(module, { env: { memory: msg.message } }).exports);
    } else if (tid < nth) {
      const ex = exs[ctl[MEM]];
      const u = (i) => ctl[ARGS + i] >>> 0;
      switch (ctl[KIND]) {
        case ${JOB.MATMUL}: ex.matmul(tid, nth, u(0), u(1), u(2), u(3), u(4), u(5), u(6)); break;
        case ${JOB.READ_SUM}: f32[RESULTS + tid] = ex.readSum(tid, nth, u(0), u(1)); break;
        case ${JOB.SIMD_PEAK}: f32[RESULTS + tid] = ex.simdPeak(u(0), ${PROBE_OPERANDS}); break;
        case ${JOB.PACKED}: ex.packedMatmul(tid, nth, u(0)); break;
        case ${JOB.ATTENTION}: ex.attention(tid, nth, u(0)); break;
        case ${JOB.MATMUL_HALF}: ex.matmulHalf(tid, nth, u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7)); break;
      }
    }
  } catch (e) {
    Atomics.store(ctl, ERROR, 1);
  }
  Atomics.add(ctl, DONE, 1);
  Atomics.notify(ctl, DONE);
}
})();
`;
