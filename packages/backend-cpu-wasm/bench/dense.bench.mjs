// Dense f32 GEMV / GEMM benchmark of the cpu-wasm backend (run after build):
//   node bench/dense.bench.mjs [--out docs/benchmarks/cpu-dense.json] [--quick]
// Every number comes from this run: a plain-JS baseline, the memory bandwidth
// and SIMD peak probes, and the backend on 1 and 2 threads. `--quick` is a
// smoke run (few reps, weight uploads included in the timings): not for numbers.
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { measure, probeMemoryBandwidth, probeSimdPeak, table, writeJson } from '@sparq/bench';
import { createRng, Tensor } from '@sparq/tensor';
import { createCpuWasmBackend, createCpuWasmProbes } from '../dist/index.js';

const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const outPath = outIdx >= 0 ? args[outIdx + 1] : undefined;
const quick = args.includes('--quick');
const THREADS = [...new Set([1, Math.min(2, availableParallelism())])];
/** GEMV weights cycled per shape: ≥ 128 MiB in total (4× the 32 MiB L3), so W comes from DRAM. */
const GEMV_SET_BYTES = 160 << 20;

const rng = createRng(7);
/** @param {number[]} shape */
const randn = (shape) => new Tensor('f32', shape, rng.fillUniform(new Float32Array(shape[0] * shape[1]), -1, 1));

/**
 * Plain-JS baseline: out = a · wᵀ with straightforward loops (row-major dot products).
 * @param {Float32Array} a @param {Float32Array} w @param {number} m @param {number} k @param {number} n
 */
function jsMatmulT(a, w, m, k, n) {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      const ai = i * k;
      const wj = j * k;
      for (let p = 0; p < k; p++) s += a[ai + p] * w[wj + p];
      out[i * n + j] = s;
    }
  }
  return out;
}

const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, date: new Date().toISOString() };
console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}`);

// --- probes -----------------------------------------------------------------
const probes = await createCpuWasmProbes({ threads: Math.max(...THREADS) });
/** @type {Record<number, {gbps: number, gflops: number}>} */
const peak = {};
for (const t of THREADS) {
  const bw = await probeMemoryBandwidth({ threads: t, probes });
  const simd = await probeSimdPeak({ threads: t, probes });
  peak[t] = { gbps: bw.gbps, gflops: simd.gflops };
}
await probes.dispose();
table(THREADS.map((t) => ({ threads: t, 'read GB/s': peak[t].gbps, 'SIMD mul+add GFLOP/s': peak[t].gflops })));

// --- cases ------------------------------------------------------------------
const cases = [
  { name: 'gemv 4096x4096', m: 1, n: 4096, k: 4096 },
  { name: 'gemv 4096x11008', m: 1, n: 11008, k: 4096 },
  { name: 'gemv 11008x4096', m: 1, n: 4096, k: 11008 },
  { name: 'gemm 128x4096x4096', m: 128, n: 4096, k: 4096 },
];

const rows = [];
for (const c of cases) {
  const { m, k, n } = c;
  const flops = 2 * m * k * n;
  const wBytes = 4 * k * n;
  const bytes = wBytes + 4 * m * (k + n);
  // GEMV: cycle distinct weights (≥ 4× L3); GEMM: one weight (it is compute-bound).
  const count = m === 1 ? Math.max(1, Math.ceil(GEMV_SET_BYTES / wBytes)) : 1;
  const ws = Array.from({ length: count }, () => randn([n, k]));
  const a = randn([m, k]);
  const opts = quick ? { warmup: 1, reps: 3, minTimeMs: 0 } : { warmup: count, reps: 3 * count, minTimeMs: 1500 };

  let wi = 0;
  const jsReps = m === 1 ? opts : { warmup: 0, reps: 1, minTimeMs: 0 };
  const js = await measure(() => jsMatmulT(a.data, ws[wi++ % count].data, m, k, n), jsReps);
  rows.push(row(c, 'js baseline', 1, js, flops, bytes, js.median, undefined));

  for (const t of THREADS) {
    const be = createCpuWasmBackend({ threads: t });
    await be.init();
    let i = 0;
    const r = await measure(() => be.run('matmulDense', { a, b: ws[i++ % count] }, { transposeB: true }), opts);
    rows.push(row(c, 'cpu-wasm', t, r, flops, bytes, js.median, m === 1 ? { gbps: peak[t].gbps } : { gflops: peak[t].gflops }));
    await be.dispose();
  }
}

/**
 * @param {{name: string}} c @param {string} impl @param {number} threads
 * @param {{median: number, p90: number}} r @param {number} flops @param {number} bytes
 * @param {number} jsMedian @param {{gbps?: number, gflops?: number} | undefined} pk
 */
function row(c, impl, threads, r, flops, bytes, jsMedian, pk) {
  const gflops = flops / r.median / 1e6;
  const gbps = bytes / r.median / 1e6;
  const frac = pk?.gbps ? gbps / pk.gbps : pk?.gflops ? gflops / pk.gflops : undefined;
  return {
    case: c.name,
    impl,
    threads,
    'median ms': r.median,
    'p90 ms': r.p90,
    'GFLOP/s': gflops,
    'GB/s': gbps,
    'x js': jsMedian / r.median,
    'of peak': frac === undefined ? '' : `${(100 * frac).toFixed(0)}%`,
  };
}

table(rows);
if (outPath) {
  writeJson(resolve(process.cwd(), outPath), { machine, peak, rows });
  console.log(`wrote ${outPath}`);
}
