// Layer-level quantization benchmark on LLaMA-7B-shaped linear layers (run after `pnpm build`):
//   node bench/layer.bench.mjs [--shapes 4096x4096,4096x11008] [--samples 2048] [--eval 256]
//                              [--no-actorder] [--configs 'W4 g128,W3 g128'] [--no-spqr-baseline]
//                              [--out docs/benchmarks/quantization-layer.json] [--quick]
// Synthetic but realistic inputs: heavy-tailed Student-t (ν = 3) weights, correlated calibration inputs
// (low-rank shared factors + per-channel scales) with a few ×20 outlier channels, H = 2·XᵀX/n from
// `--samples` calibration rows. Errors are measured on `--eval` held-out rows of the same distribution:
// ‖W Xᵀ − Ŵ Xᵀ‖² / ‖W Xᵀ‖². Times are single runs (a layer is seconds to minutes of work).
// Every ratio is to a baseline from this run: GPTQ time / RTN time, GPTQ error / RTN error, and the
// solve's FLOP rate as a fraction of a plain-JS f64 axpy loop measured here. `--quick`: small shapes, smoke only.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { measure, table, writeJson } from '@sparq/bench';
import { createRng } from '@sparq/tensor';
import { gptqQuantize, prepareHessian, rtnQuantize, spqrQuantize } from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const quick = args.includes('--quick');
const shapes = (arg('--shapes', quick ? '128x256' : '4096x4096,4096x11008'))
  .split(',')
  .map((s) => s.split('x').map(Number));
const nCal = Number(arg('--samples', quick ? '512' : '2048'));
const nEval = Number(arg('--eval', quick ? '64' : '256'));
const actOrder = !args.includes('--no-actorder');
const outPath = arg('--out', undefined);
const only = arg('--configs', undefined)?.split(',');
const spqrBaseline = !args.includes('--no-spqr-baseline');

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  vcpus: availableParallelism(),
  node: process.version,
  date: new Date().toISOString(),
  loadavgAtStart: loadavg()[0],
};
console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}, load ${machine.loadavgAtStart.toFixed(2)}`);

// --- baseline: plain-JS f64 axpy rate (L1-resident), the ceiling of the solvers' inner loops ------------
function axpyRate() {
  const n = 1024;
  const x = new Float64Array(n).fill(1.0000001);
  const y = new Float64Array(n);
  const iters = 200_000;
  const t0 = performance.now();
  for (let it = 0; it < iters; it++) {
    const a = 1e-9 * (it & 7);
    for (let j = 0; j < n; j++) y[j] -= a * x[j];
  }
  const s = (performance.now() - t0) / 1000;
  if (!Number.isFinite(y[0])) throw new Error('axpy probe');
  return (2 * n * iters) / s / 1e9;
}
const axpyGflops = Math.max(axpyRate(), axpyRate());
console.log(`plain-JS f64 axpy: ${axpyGflops.toFixed(2)} GFLOP/s`);

// --- data --------------------------------------------------------------------------------------------------
function makeWeights(rows, cols, rng) {
  const W = new Float64Array(rows * cols);
  for (let i = 0; i < W.length; i++) {
    const a = rng.normal();
    const b = rng.normal();
    const c = rng.normal();
    W[i] = (0.02 * rng.normal()) / Math.sqrt((a * a + b * b + c * c) / 3);
  }
  return W;
}

/** n × cols inputs: per-channel scale · (z + shared low-rank factors), `outliers` channels × 20. */
function makeInputs(n, cols, rng, chan, B, rank, outliers) {
  const X = new Float64Array(n * cols);
  const f = new Float64Array(rank);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < rank; t++) f[t] = rng.normal();
    const o = k * cols;
    for (let j = 0; j < cols; j++) X[o + j] = rng.normal();
    for (let t = 0; t < rank; t++) {
      const ft = f[t];
      const bo = t * cols;
      for (let j = 0; j < cols; j++) X[o + j] += ft * B[bo + j];
    }
    for (let j = 0; j < cols; j++) X[o + j] *= chan[j];
    for (const j of outliers) X[o + j] *= 20;
  }
  return X;
}

/** H = 2·XᵀX/n, blocked over 64-sample chunks (transposed so both operands of each dot are contiguous). */
function hessian(X, n, cols) {
  const H = new Float64Array(cols * cols);
  const C = 64;
  const Xt = new Float64Array(cols * C);
  for (let k0 = 0; k0 < n; k0 += C) {
    const m = Math.min(C, n - k0);
    Xt.fill(0);
    for (let t = 0; t < m; t++) for (let j = 0; j < cols; j++) Xt[j * C + t] = X[(k0 + t) * cols + j];
    for (let i = 0; i < cols; i++) {
      const io = i * C;
      const ho = i * cols;
      for (let j = 0; j <= i; j++) {
        const jo = j * C;
        let s = 0;
        for (let t = 0; t < C; t++) s += Xt[io + t] * Xt[jo + t];
        H[ho + j] += s;
      }
    }
  }
  const f = 2 / n;
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j <= i; j++) {
      const v = H[i * cols + j] * f;
      H[i * cols + j] = v;
      H[j * cols + i] = v;
    }
  }
  return H;
}

/** ‖(W − Ŵ) Xeᵀ‖² / ‖W Xeᵀ‖² over the held-out rows. */
function relError(W, What, Xe, rows, cols, m, refNorm) {
  const d = new Float64Array(cols);
  let num = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) d[j] = W[o + j] - What[o + j];
    for (let k = 0; k < m; k++) {
      const xo = k * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += d[j] * Xe[xo + j];
      num += s * s;
    }
  }
  return num / refNorm;
}

// --- configurations --------------------------------------------------------------------------------------
const configs = [
  { name: 'W8 per-channel', bits: 8, groupSize: -1 },
  { name: 'W4 g128', bits: 4, groupSize: 128 },
  { name: 'W4 per-channel', bits: 4, groupSize: -1 },
  { name: 'W3 g128', bits: 3, groupSize: 128 },
  { name: 'W2 g64', bits: 2, groupSize: 64 },
];
/** Stored bits per weight of group quantization: codes + f16 scale + zero code per group. */
const groupBits = (bits, gs, cols) => bits + (16 + bits) / (gs === -1 ? cols : gs);
/** Errors span 1e-6..1: scientific notation. */
const sci = (x) => x.toExponential(2);

const report = { machine, axpyGflops, nCal, nEval, shapes: [] };
const time = async (fn) => {
  let out;
  const m = await measure(() => (out = fn()), { warmup: 0, reps: 1, minTimeMs: 0 });
  return { out, ms: m.median };
};

for (const [rows, cols] of shapes) {
  console.log(`\n=== layer ${rows}x${cols} (rows = out features, cols = in features) ===`);
  const rng = createRng(rows * 7919 + cols);
  const W = makeWeights(rows, cols, rng);
  const rank = 32;
  const B = new Float64Array(rank * cols);
  for (let i = 0; i < B.length; i++) B[i] = rng.normal() * 0.5;
  const chan = new Float64Array(cols);
  for (let j = 0; j < cols; j++) chan[j] = Math.exp(0.5 * rng.normal());
  const outliers = Array.from({ length: Math.max(2, cols >> 9) }, () => rng.int(cols));
  const tData = performance.now();
  const X = makeInputs(nCal, cols, rng, chan, B, rank, outliers);
  const Xe = makeInputs(nEval, cols, rng, chan, B, rank, outliers);
  const { out: H, ms: hMs } = await time(() => hessian(X, nCal, cols));
  let refNorm = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < nEval; k++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += W[r * cols + j] * Xe[k * cols + j];
      refNorm += s * s;
    }
  }
  console.log(`data + H (${nCal} samples): ${((performance.now() - tData) / 1000).toFixed(1)} s (H ${(hMs / 1000).toFixed(1)} s)`);
  const w = { rows, cols, data: W };
  const { out: prep, ms: prepMs } = await time(() => prepareHessian(H, cols, { percDamp: 0.01 }));
  const { out: prepAct, ms: prepActMs } = actOrder ? await time(() => prepareHessian(H, cols, { percDamp: 0.01, actOrder: true })) : { out: undefined, ms: NaN };
  console.log(`prepareHessian (dead fix, damp, U): ${(prepMs / 1000).toFixed(1)} s; act-order ${(prepActMs / 1000).toFixed(1)} s`);
  const solveFlops = rows * cols * cols; // eager + lazy OBS updates: 2 flops × rows × cols²/2
  const rowsOut = [];
  for (const c of configs.filter((x) => !only || only.includes(x.name))) {
    const spec = { bits: c.bits, groupSize: c.groupSize, sym: false, f16Stats: true };
    const rtn = await time(() => rtnQuantize(w, spec));
    const eR = relError(W, rtn.out.weight, Xe, rows, cols, nEval, refNorm);
    const gq = await time(() => gptqQuantize(w, H, { ...spec, prepared: prep }));
    const eG = relError(W, gq.out.weight, Xe, rows, cols, nEval, refNorm);
    const row = {
      config: c.name,
      'bits/w': groupBits(c.bits, c.groupSize, cols),
      'RTN err': sci(eR),
      'GPTQ err': sci(eG),
      'GPTQ/RTN err': eG / eR,
      'RTN s': rtn.ms / 1000,
      'GPTQ s': gq.ms / 1000,
      'GPTQ GFLOP/s / axpy': solveFlops / (gq.ms / 1000) / 1e9 / axpyGflops,
    };
    if (actOrder) {
      const ga = await time(() => gptqQuantize(w, H, { ...spec, actOrder: true, staticGroups: c.groupSize !== -1, prepared: prepAct }));
      const eA = relError(W, ga.out.weight, Xe, rows, cols, nEval, refNorm);
      row['GPTQ act-order err'] = sci(eA);
      row['act/RTN err'] = eA / eR;
      row['GPTQ act s'] = ga.ms / 1000;
    }
    rowsOut.push(row);
    table([row]);
  }
  const spqrRows = [];
  const spqrSettings = [{ bits: 3, groupSize: 16, outlierThreshold: 0.2 }];
  if (spqrBaseline) spqrSettings.push({ bits: 3, groupSize: 16, outlierThreshold: Infinity });
  for (const s of spqrSettings) {
    const sp = await time(() => spqrQuantize(w, H, { ...s, statBits: 3, statGroupRows: 16, f16Stats: true, prepared: prep }));
    const rtnRef = rtnQuantize(w, { bits: 3, groupSize: 16, sym: false, f16Stats: true });
    const eS = relError(W, sp.out.weight, Xe, rows, cols, nEval, refNorm);
    const eR = relError(W, rtnRef.weight, Xe, rows, cols, nEval, refNorm);
    const row = {
      config: `SpQR w3 g16, 3-bit stats g16, outliers ${s.outlierThreshold}`,
      'avg bits/w': sp.out.averageBits,
      'outliers %': (100 * sp.out.outliers.values.length) / (rows * cols),
      'SpQR err': sci(eS),
      'RTN w3 g16 err': sci(eR),
      'SpQR/RTN err': eS / eR,
      'SpQR s': sp.ms / 1000,
    };
    spqrRows.push(row);
    table([row]);
  }
  console.log(`\nsummary ${rows}x${cols}:`);
  table(rowsOut);
  table(spqrRows);
  report.shapes.push({ rows, cols, hessianMs: hMs, prepareMs: prepMs, prepareActOrderMs: prepActMs, quant: rowsOut, spqr: spqrRows, loadavgAtEnd: loadavg()[0] });
}
if (outPath) writeJson(outPath, report);
