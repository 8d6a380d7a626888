// Peer benchmark: our cpu-wasm kernels vs ONNX Runtime native (onnxruntime-node,
// CPU EP) and ONNX Runtime Web (onnxruntime-web, WebAssembly backend, run in
// Node), same process, same shapes, same weights (run after build):
//   node [--experimental-wasm-relaxed-simd] bench/peers.bench.mjs [--threads 2] [--web-threads N]
//        [--shapes 4096x4096,4096x11008,11008x4096] [--gemv-only | --gemm-only] [--peers node,web]
//        [--formats dense,int4,int8,2:4,2:4+int4,2:4+int8]
//        [--out file.json] [--quick]
// Graphs are one-node ONNX models built in bench/onnx-graph.mjs: MatMul (f32) for
// dense and 2:4 (ORT has no N:M kernel, so it runs the 2:4 weight dense), and
// com.microsoft.MatMulNBits (bits 4, block 128, asymmetric, accuracy_level 4 =
// int8 activations where the build has such kernels) for INT4 and 2:4 + INT4.
// Before timing, every (shape, batch, format) checks ours and both peers against
// the float64 product of our reference decode (first rows of A); a wrong layout
// stops the run. Threads: ours `--threads`; ORT native intraOpNumThreads =
// `--threads`; ORT Web env.wasm.numThreads = `--web-threads` (default
// `--threads`; it is fixed per process, the wasm module starts once).
// In Node, ORT Web's calling thread only waits while its pthread pool computes,
// so numThreads = t gives t − 1 computing threads (1 → the calling thread
// itself); bench/peers-web-threads.mjs measures this. Both ORT sessions run
// with session.intra_op.allow_spinning = 0: ORT's pool threads otherwise spin
// after each run and, on this 2-vCPU machine, steal the cores of whichever
// implementation runs next in the interleaved rounds.
// ORT Web runs in a child process of its own: with numThreads ≥ 2 its pthread
// worker keeps a core busy between runs (measured: our 2-thread GEMV ran at half
// speed beside it, and ORT native slowed too), so sharing a process would
// measure that interference, not the kernels. The parent times ours and ORT
// native; the child (`--child`) times ORT Web alone on the same shapes and
// weights (same seeds), and the parent merges its rows.
// GEMV (batch 1) cycles through distinct weights whose sparq-format bytes total
// ≥ 128 MiB (4× the 32 MiB L3); a sample is one pass over the set divided by its
// count. GEMM runs batch 128 on one weight. Implementations alternate within
// each round so load from other processes hits them alike. Ratios are
// our time / their time (< 1: ours faster).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { probeMemoryBandwidth, summarize, table, writeJson } from '@sparq/bench';
import { Tensor, decodePacked } from '@sparq/tensor';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { createCpuWasmBackend, createCpuWasmProbes, relaxedSimdAvailable } from '../dist/index.js';
import { FORMATS, uniform } from './peers-weights.mjs';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outPath = flag('--out');
const quick = args.includes('--quick');
const THREADS = Number(flag('--threads') ?? Math.min(2, availableParallelism()));
const WEB_THREADS = Number(flag('--web-threads') ?? THREADS);
const CHILD = args.includes('--child');
const REQUESTED = (flag('--peers') ?? 'node,web').split(',');
/** Timed in this process: ORT Web only in the child (see above). */
const PEERS = CHILD ? ['web'] : REQUESTED.filter((p) => p !== 'web');
const webInChild = !CHILD && REQUESTED.includes('web');
const batches = args.includes('--gemv-only') ? [1] : args.includes('--gemm-only') ? [128] : [1, 128];
/** Streamed (sparq-format) weight bytes cycled per GEMV case: 4× the 32 MiB L3. */
const GEMV_SET_BYTES = quick ? 16 << 20 : 128 << 20;
const SHAPES = {
  '4096x4096': { n: 4096, k: 4096 },
  '4096x11008': { n: 11008, k: 4096 }, // in 4096 → out 11008 (gate / up)
  '11008x4096': { n: 4096, k: 11008 }, // in 11008 → out 4096 (down)
  '1024x1024': { n: 1024, k: 1024 },
};
const formatNames = flag('--formats')?.split(',') ?? Object.keys(FORMATS);
for (const f of formatNames) if (!FORMATS[f]) throw new Error(`--formats: unknown format '${f}' (known: ${Object.keys(FORMATS).join(', ')})`);
const shapeNames = (flag('--shapes') ?? (quick ? '1024x1024' : '4096x4096,4096x11008,11008x4096')).split(',');
/** Relative L2 error allowed against the float64 reference: f32 accumulation, and int8 activations (ours, ORT accuracy_level 4). */
const TOL = { f32: 1e-4, int8act: 3e-2 };
/** Per implementation and case: stop timing after this many ms once MIN_SAMPLES samples are in. */
const IMPL_BUDGET_MS = 6000;
const MIN_SAMPLES = 3;

ortWeb.env.wasm.numThreads = WEB_THREADS;
ortWeb.env.logLevel = 'error';

const simd = (await relaxedSimdAvailable()) ? 'relaxed' : 'baseline';
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, simd,
  onnxruntimeNode: ortNode.env.versions?.node ?? 'unknown', onnxruntimeWeb: ortWeb.env.versions?.web ?? 'unknown', date: new Date().toISOString(),
};
console.log(
  `machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}, our wasm SIMD build: ${simd}; ` +
    `onnxruntime-node ${machine.onnxruntimeNode} (intraOpNumThreads ${THREADS}), onnxruntime-web ${machine.onnxruntimeWeb} (wasm, numThreads ${WEB_THREADS}); ours: ${THREADS} threads${quick ? ' (--quick: smoke run)' : ''}`,
);

const probes = await createCpuWasmProbes({ threads: THREADS });
const bw = await probeMemoryBandwidth({ threads: THREADS, probes, ...(quick ? { bytes: 64 << 20 } : {}) });
await probes.dispose();
console.log(`measured read bandwidth, ${THREADS} threads: ${bw.gbps.toFixed(2)} GB/s`);

/** float64 `A[rows] · Wᵀ` for the first `rows` rows of A, from our reference decode. */
function reference(a, k, wDense, n, rows) {
  const out = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++) {
    const ai = a.subarray(i * k, (i + 1) * k);
    for (let r = 0; r < n; r++) {
      const wr = wDense.subarray(r * k, (r + 1) * k);
      let s = 0;
      for (let c = 0; c < k; c++) s += ai[c] * wr[c];
      out[i * n + r] = s;
    }
  }
  return out;
}
function relErr(y, ref) {
  let e = 0;
  let d = 0;
  for (let i = 0; i < ref.length; i++) {
    e += (y[i] - ref[i]) ** 2;
    d += ref[i] ** 2;
  }
  return Math.sqrt(e / d);
}
/** Our operand for a weight: a dense one as a Tensor (made once: the backend caches uploads by object identity). */
const ours = (w) => (w.kind === 'dense' ? new Tensor('f32', [w.rows, w.cols], w.data) : w);

const rows = [];
for (const shapeName of shapeNames) {
  const { n, k } = SHAPES[shapeName];
  for (const m of batches) {
    const a = uniform(m * k, -1, 1);
    const aOurs = new Tensor('f32', [m, k], a);
    const aNode = new ortNode.Tensor('float32', a, [m, k]);
    const aWeb = new ortWeb.Tensor('float32', a, [m, k]);
    // One format at a time keeps memory bounded (three copies of each weight set live at once).
    for (const [fmt, F] of Object.entries(FORMATS).filter(([f]) => formatNames.includes(f))) {
      const wBytes = F.bytes(n, k);
      const count = m === 1 ? Math.max(1, Math.ceil(GEMV_SET_BYTES / wBytes)) : 1;
      const ws = Array.from({ length: count }, () => F.make(n, k));
      const wOurs = ws.map(ours);
      const be = createCpuWasmBackend({ threads: THREADS });
      await be.init();
      const noSpin = { session: { intra_op: { allow_spinning: '0' } } };
      const nodeOpts = { intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', extra: noSpin };
      const webOpts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', extra: noSpin };
      const nodeSessions = [];
      const webSessions = [];
      for (const w of ws) {
        const model = F.onnx(w);
        if (PEERS.includes('node')) nodeSessions.push(await ortNode.InferenceSession.create(model, nodeOpts));
        if (PEERS.includes('web')) webSessions.push(await ortWeb.InferenceSession.create(model, webOpts));
      }
      const impls = [
        ...(CHILD ? [] : [{ name: 'ours', run: (i) => (F.kernel === 'matmulDense' ? be.run(F.kernel, { a: aOurs, b: wOurs[i] }, { transposeB: true }) : be.run(F.kernel, { a: aOurs, w: wOurs[i] }, {})), out: (y) => y.data }]),
        ...(PEERS.includes('node') ? [{ name: 'ort-node', run: (i) => nodeSessions[i].run({ A: aNode }), out: (y) => y.Y.data }] : []),
        ...(PEERS.includes('web') ? [{ name: 'ort-web', run: (i) => webSessions[i].run({ A: aWeb }), out: (y) => y.Y.data }] : []),
      ];
      // Correctness first (also the warm-up of weight 0): all three against the float64 reference decode.
      const checkRows = Math.min(m, 2);
      const ref = reference(a, k, ws[0].kind === 'dense' ? ws[0].data : decodePacked(ws[0]), n, checkRows);
      const errs = {};
      for (const impl of impls) {
        const y = impl.out(await impl.run(0)).subarray(0, checkRows * n);
        errs[impl.name] = relErr(y, ref);
        // Ours (GEMV) and ORT native (accuracy_level 4) quantize the activations to int8 for 4- and 8-bit weights; ORT Web computes in f32.
        const tol = F.peerOp === 'MatMulNBits' && impl.name !== 'ort-web' ? TOL.int8act : TOL.f32;
        if (!(errs[impl.name] <= tol)) {
          throw new Error(`${impl.name} ${fmt} ${shapeName} m=${m}: relative error ${errs[impl.name]} vs the float64 reference exceeds ${tol} — graph or layout is wrong`);
        }
      }
      // Warm-up: one untimed pass over the whole set per implementation.
      for (const impl of impls) for (let i = 0; i < count; i++) await impl.run(i);
      const samples = impls.map(() => []);
      const rounds = quick ? 3 : m === 1 ? 15 : 5;
      const spent = impls.map(() => 0);
      for (let r = 0; r < rounds; r++) {
        for (let j = 0; j < impls.length; j++) {
          // Bound the slow cases (ORT Web's MatMulNBits runs ~100× slower than the rest): stop timing an
          // implementation after MIN_SAMPLES samples once it has used IMPL_BUDGET_MS of this case.
          if (samples[j].length >= MIN_SAMPLES && spent[j] > IMPL_BUDGET_MS) continue;
          const t0 = performance.now();
          for (let i = 0; i < count; i++) await impls[j].run(i);
          const dt = performance.now() - t0;
          spent[j] += dt;
          samples[j].push(dt / count);
        }
      }
      const stats = Object.fromEntries(impls.map((impl, j) => [impl.name, summarize(samples[j])]));
      const flops = 2 * m * k * n;
      const perf = (st, bytes) => (m === 1 ? `${(bytes / st.median / 1e6).toFixed(2)} GB/s (${((100 * bytes) / st.median / 1e6 / bw.gbps).toFixed(0)}% bw)` : `${(flops / st.median / 1e6).toFixed(1)} GFLOP/s`);
      const row = { case: `${m === 1 ? 'gemv' : `gemm m=${m}`} ${shapeName}`, format: fmt, 'peer op': F.peerOp };
      for (const [name, st] of Object.entries(stats)) Object.assign(row, { [`${name} ms`]: st.median, [`${name} p90`]: st.p90 });
      if (stats.ours) for (const name of Object.keys(stats).slice(1)) row[`ours/${name.slice(4)}`] = stats.ours.median / stats[name].median;
      for (const [name, st] of Object.entries(stats)) row[name] = perf(st, name === 'ours' ? wBytes : F.peerBytes(n, k));
      row['relerr ' + Object.keys(errs).join('/')] = Object.values(errs).map((e) => e.toExponential(1)).join('/');
      row.weights = count;
      row.samples = samples.map((x) => x.length).join('/');
      rows.push(row);
      console.log(`done ${row.case} ${fmt}: ${Object.entries(stats).map(([name, st]) => `${name} ${st.median.toFixed(2)} ms`).join(', ')}`);
      for (const s of [...nodeSessions, ...webSessions]) await s.release();
      await be.dispose();
    }
  }
}

if (webInChild) {
  // ORT Web, timed alone in a child process; merged by (case, format).
  const childOut = join(tmpdir(), `sparq-peers-web-${process.pid}.json`);
  const childArgs = [...process.execArgv, process.argv[1], ...args.filter((x, i) => !['--out', '--peers'].includes(x) && !['--out', '--peers'].includes(args[i - 1])), '--child', '--peers', 'web', '--out', childOut];
  console.log(`ORT Web: timing it alone in a child process (node ${childArgs.slice(process.execArgv.length).join(' ')})`);
  const r = spawnSync(process.execPath, childArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`the ORT Web child process failed (status ${r.status})`);
  const child = JSON.parse(readFileSync(childOut, 'utf8'));
  rmSync(childOut, { force: true });
  for (const row of rows) {
    const c = child.rows.find((x) => x.case === row.case && x.format === row.format);
    if (!c) throw new Error(`ORT Web child has no row for ${row.case} ${row.format}`);
    Object.assign(row, { 'ort-web ms': c['ort-web ms'], 'ort-web p90': c['ort-web p90'], 'ours/web': row['ours ms'] / c['ort-web ms'], 'ort-web': c['ort-web'], 'relerr ort-web': c['relerr ort-web'] });
  }
}

table(rows);
if (outPath) {
  writeJson(resolve(process.cwd(), outPath), { machine, threads: THREADS, webThreads: WEB_THREADS, readGbps: bw.gbps, gemvSetBytes: GEMV_SET_BYTES, groupSize: 128, rows });
  console.log(`wrote ${outPath}`);
}
