// Per-layer pruning time (run after build):
//   node bench/prune.bench.mjs [--size 4096] [--rows R] [--quick] [--out ../../docs/benchmarks/pruners.json]
// magnitude / Wanda / SparseGPT, unstructured 50 % and 2:4, on one size×size
// layer with a synthetic Hessian from random correlated calibration inputs
// (X = Z + Z_lat·B: shared latent factors correlate the channels, plus outlier
// channels). Reported against magnitude pruning measured in the same run, and
// SparseGPT's multiply-add rate against this machine's plain-JS float64
// multiply-add rate, probed in the same run (pruners is plain JS by design).
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { measure, table, writeJson } from '@sparq/bench';
import { createRng } from '@sparq/tensor';
import { magnitudePrune, parsePattern, sparseGpt, wandaPrune } from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const quick = args.includes('--quick');
const cols = Number(arg('--size', quick ? 1024 : 4096));
const rows = Number(arg('--rows', cols));
const outPath = arg('--out', undefined);
const SAMPLES = 1024;
const LATENT = 64;
const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, date: new Date().toISOString() };
console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}; layer ${rows}×${cols}, ${SAMPLES} calibration samples`);

// --- synthetic layer and calibration statistics -------------------------------
const rng = createRng(2024);
const W = new Float64Array(rows * cols);
rng.fillNormal(W, 0.02);
// Xt: cols × SAMPLES (transposed so that XᵀX is dot products of contiguous rows).
const Xt = new Float64Array(cols * SAMPLES);
rng.fillNormal(Xt);
{
  const Zl = new Float64Array(LATENT * SAMPLES);
  rng.fillNormal(Zl);
  const B = new Float64Array(cols * LATENT);
  rng.fillNormal(B, 1.5 / Math.sqrt(LATENT));
  for (let j = 0; j < cols; j++) {
    for (let l = 0; l < LATENT; l++) {
      const b = B[j * LATENT + l];
      for (let k = 0; k < SAMPLES; k++) Xt[j * SAMPLES + k] += b * Zl[l * SAMPLES + k];
    }
  }
  for (let o = 0; o < Math.max(2, cols >> 6); o++) {
    const j = rng.int(cols);
    for (let k = 0; k < SAMPLES; k++) Xt[j * SAMPLES + k] *= 20;
  }
}
let t0 = performance.now();
const H = new Float64Array(cols * cols);
const meanSquare = new Float64Array(cols);
for (let i = 0; i < cols; i++) {
  for (let j = 0; j <= i; j++) {
    let s0 = 0, s1 = 0;
    const a = i * SAMPLES, b = j * SAMPLES;
    for (let k = 0; k < SAMPLES; k += 2) {
      s0 += Xt[a + k] * Xt[b + k];
      s1 += Xt[a + k + 1] * Xt[b + k + 1];
    }
    const v = (2 * (s0 + s1)) / SAMPLES;
    H[i * cols + j] = v;
    H[j * cols + i] = v;
  }
  meanSquare[i] = H[i * cols + i] / 2;
}
console.log(`synthetic H = 2XᵀX/n built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// --- same-run probe: plain-JS float64 multiply-add rate ----------------------
// Eight independent chains fed by one L1 load: the compute-bound ceiling of
// scalar JS on this core under this run's conditions.
function probeJsFma() {
  const a = new Float64Array(1024).map((_, i) => 1 + i * 1e-6);
  const reps = 5_000;
  let sink = 0;
  const run = () => {
    const c0 = 0.5, c1 = 0.25, c2 = 0.125, c3 = 0.0625, c4 = 1.5, c5 = 1.25, c6 = 1.125, c7 = 1.0625;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < 1024; i++) {
        const x = a[i];
        s0 += x * c0; s1 += x * c1; s2 += x * c2; s3 += x * c3; s4 += x * c4; s5 += x * c5; s6 += x * c6; s7 += x * c7;
      }
    }
    sink += s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
  };
  return measure(run, { warmup: 2, reps: 7, minTimeMs: 300 }).then((m) => ({ gfma: (reps * 1024 * 8) / m.median / 1e6, sink }));
}
const probe = await probeJsFma();
console.log(`probe: plain-JS f64 multiply-add ${probe.gfma.toFixed(2)} G/s (1 thread, compute-bound)`);

// --- the pruners ---------------------------------------------------------------
const layer = { rows, cols, data: W };
const results = [];
for (const p of ['50%', '2:4']) {
  const pattern = parsePattern(p);
  const fast = { warmup: 1, reps: 3, minTimeMs: 0 };
  const slow = { warmup: 0, reps: quick ? 2 : 1, minTimeMs: 0 };
  const mag = await measure(() => magnitudePrune(layer, pattern), fast);
  const wanda = await measure(() => wandaPrune(layer, meanSquare, pattern), fast);
  const sgpt = await measure(() => sparseGpt(layer, H, { pattern }), slow);
  // Nominal SparseGPT work: n³/3 for the inverse factor + rows·cols²/2 for the OBS updates (dense equivalent).
  const fma = cols ** 3 / 3 + (rows * cols * cols) / 2;
  for (const [name, m] of [['magnitude', mag], ['wanda', wanda], ['sparsegpt', sgpt]]) {
    const row = { pattern: p, pruner: name, 'median ms': m.median, 'p90 ms': m.p90, samples: m.samples.length, 'x magnitude': m.median / mag.median };
    if (name === 'sparsegpt') {
      row['GFMA/s (dense eq.)'] = fma / m.median / 1e6;
      row['of JS f64 peak'] = fma / m.median / 1e6 / probe.gfma;
    }
    results.push(row);
  }
}
table(results);
console.log('Note: single-threaded plain JS; on a shared machine timings include interference from other processes.');
if (outPath) {
  writeJson(resolve(process.cwd(), outPath), { machine, rows, cols, samples: SAMPLES, probe: { jsF64FmaGps: probe.gfma }, results });
  console.log(`wrote ${outPath}`);
}
