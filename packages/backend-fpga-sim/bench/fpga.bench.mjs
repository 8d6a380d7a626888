// FPGA simulator benchmark (run after `pnpm build` of this package):
//   node bench/fpga.bench.mjs [--out docs/benchmarks/fpga.json] [--quick]
// Two kinds of numbers, all from this run:
// 1. the simulator's own speed: wall time of a full LLaMA-7B decode step / prefill in the analytical mode
//    (issue target: < 1 s), and the cycle-level mode's simulated cycles per second (and PE-updates per second);
// 2. the simulated accelerator's results that docs/benchmarks/fpga.md quotes: N:M gains on a compute-bound
//    GEMM (vs. the dense run on the same array), on a memory-bound decode GEMV (vs. the DRAM byte reduction),
//    and model-level speed-up / energy of each plan vs. dense INT8 on the same array.
import { availableParallelism, cpus } from 'node:os';
import { measure, table, writeJson } from '@sparq/bench';
import {
  DENSE,
  analyzeGemm,
  comparePlans,
  decodePhase,
  estimateResources,
  modelShape,
  parsePattern,
  prefillPhase,
  resolveFpgaConfig,
  simulateGemmCycles,
  simulateModel,
  uniformPlan,
} from '../dist/index.js';

const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const outPath = outIdx >= 0 ? args[outIdx + 1] : undefined;
const quick = args.includes('--quick');
const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, date: new Date().toISOString() };
console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}`);

const PATTERNS = ['dense', '2:4', '1:4', '2:8', '4:8'];
const hbm = resolveFpgaConfig({}); // 64×64 ws, 300 MHz, 460 GB/s HBM2 (Alveo U280)
const ddr = resolveFpgaConfig({ name: 'decode-16x256-ddr4', array: { rows: 16, cols: 256, dataflow: 'os' }, dram: { bandwidthGBs: 19.2, latencyCycles: 100 } });
const llama = modelShape('llama-7b');

// --- 1a. analytical-mode speed ----------------------------------------------
const opts = quick ? { warmup: 1, reps: 3, minTimeMs: 0 } : { warmup: 2, reps: 10 };
const plan24 = uniformPlan(parsePattern('2:4'), 4);
const tDecode = await measure(() => simulateModel(hbm, llama, decodePhase(128), plan24), opts);
const tPrefill = await measure(() => simulateModel(hbm, llama, prefillPhase(128), plan24), opts);
const folds = simulateModel(hbm, llama, decodePhase(128), plan24).gemms.reduce((s, g) => s + g.count * g.report.folds, 0);
console.log('\nanalytical mode: wall time of one model-level run (LLaMA-7B, 2:4 INT4, 64×64 ws)');
table([
  { run: 'decode step (batch 1, context 128)', 'median ms': tDecode.median, 'p90 ms': tDecode.p90, 'folds simulated': folds },
  { run: 'prefill 128 tokens', 'median ms': tPrefill.median, 'p90 ms': tPrefill.p90, 'folds simulated': '' },
]);

// --- 1b. cycle-level speed ----------------------------------------------------
function operands(m, k, n, keep, group) {
  const kc = (k / group) * keep;
  const a = Int8Array.from({ length: m * k }, (_, i) => ((i * 37) % 255) - 127);
  const w = Int8Array.from({ length: n * kc }, (_, i) => ((i * 11) % 15) - 7);
  const idx = new Uint8Array(n * kc);
  for (let i = 0; i < n * kc; i++) idx[i] = (i % keep) * Math.floor(group / keep);
  return { a, w, ...(group > 1 ? { idx } : {}) };
}
const cycleCases = [
  { df: 'ws', rows: 16, cols: 16, m: 64, k: 256, n: 64, pattern: 'dense' },
  { df: 'ws', rows: 16, cols: 16, m: 64, k: 256, n: 64, pattern: '2:4' },
  { df: 'os', rows: 16, cols: 16, m: 64, k: 256, n: 64, pattern: 'dense' },
  { df: 'is', rows: 16, cols: 16, m: 64, k: 256, n: 64, pattern: 'dense' },
  { df: 'ws', rows: 32, cols: 32, m: 64, k: 512, n: 64, pattern: '2:4' },
];
const cycleRows = [];
for (const c of quick ? cycleCases.slice(0, 2) : cycleCases) {
  const cfg = resolveFpgaConfig({ array: { rows: c.rows, cols: c.cols, dataflow: c.df } });
  const p = parsePattern(c.pattern);
  const wl = { shape: { m: c.m, k: c.k, n: c.n }, sparsity: p, weightBits: 4, quantGroupSize: 128 };
  const ops = operands(c.m, c.k, c.n, p.keep, p.group);
  let cycles = 0;
  const t = await measure(() => (cycles = simulateGemmCycles(cfg, wl, ops).report.cycles), quick ? { warmup: 0, reps: 1, minTimeMs: 0 } : { warmup: 1, reps: 3, minTimeMs: 0 });
  const agrees = analyzeGemm(cfg, wl).cycles === cycles;
  cycleRows.push({
    case: `${c.df} ${c.rows}×${c.cols} ${c.m}x${c.k}x${c.n} ${c.pattern}`,
    'simulated cycles': cycles,
    'median ms': t.median,
    'cycles/s': Math.round(cycles / (t.median / 1000)),
    'PE-updates/s (M)': (cycles * c.rows * c.cols) / (t.median / 1000) / 1e6,
    'analytical agrees': agrees,
  });
}
console.log('\ncycle-level mode: simulated cycles per second');
table(cycleRows);

// --- 2a. compute-bound GEMM: N:M gains ------------------------------------------
const computeShape = { m: 512, k: 4096, n: 4096 };
const computeRows = [];
for (const bits of [8, 4]) {
  const dense = analyzeGemm(hbm, { shape: computeShape, sparsity: DENSE, weightBits: bits, quantGroupSize: 128 });
  for (const pat of PATTERNS) {
    const p = parsePattern(pat);
    const r = analyzeGemm(hbm, { shape: computeShape, sparsity: p, weightBits: bits, quantGroupSize: 128 });
    computeRows.push({
      pattern: pat,
      bits,
      cycles: r.cycles,
      'speed-up': dense.cycles / r.cycles,
      'ideal M/N': p.group / p.keep,
      util: r.utilization,
      bound: r.bound,
      'DRAM MB': r.dramBytes / 1e6,
      'energy µJ': r.energy.totalUj,
    });
  }
}
console.log(`\ncompute-bound GEMM ${computeShape.m}x${computeShape.k}x${computeShape.n} on ${hbm.name} (64×64 ws, HBM 460 GB/s)`);
table(computeRows);

// --- 2b. memory-bound decode GEMV: gains follow bytes --------------------------
const gemvShape = { m: 1, k: 4096, n: 11008 };
const memRows = [];
for (const bits of [8, 4]) {
  const dense = analyzeGemm(ddr, { shape: gemvShape, sparsity: DENSE, weightBits: bits, quantGroupSize: 128 });
  for (const pat of PATTERNS) {
    const r = analyzeGemm(ddr, { shape: gemvShape, sparsity: parsePattern(pat), weightBits: bits, quantGroupSize: 128 });
    memRows.push({
      pattern: pat,
      bits,
      cycles: r.cycles,
      'speed-up': dense.cycles / r.cycles,
      'byte reduction': dense.dramBytes / r.dramBytes,
      bound: r.bound,
      'DRAM MB': r.dramBytes / 1e6,
      'stall cycles': r.stallCycles,
    });
  }
}
console.log(`\nmemory-bound decode GEMV ${gemvShape.m}x${gemvShape.k}x${gemvShape.n} on ${ddr.name} (16×256 os, DDR4 19.2 GB/s)`);
table(memRows);

// --- 2c. model-level: LLaMA-7B, every plan vs dense INT8 ------------------------
const plans = [];
for (const pat of PATTERNS) for (const bits of [8, 4]) if (!(pat === 'dense' && bits === 8)) plans.push(uniformPlan(parsePattern(pat), bits));
const modelRows = [];
for (const [cfg, label] of [
  [hbm, '64×64 ws HBM'],
  [ddr, '16×256 os DDR4'],
]) {
  for (const phase of [decodePhase(128), prefillPhase(128)]) {
    for (const r of comparePlans(cfg, llama, phase, plans)) {
      modelRows.push({
        array: label,
        phase: phase.kind,
        plan: r.plan,
        'ms': r.latencyMs,
        'tok/s': r.tokensPerSecond,
        'speed-up': r.speedup,
        'energy vs dense': r.energyRatio,
        'mJ/token': r.energyMj / phase.tokens,
        'DRAM GB': r.dramBytes / 1e9,
      });
    }
  }
}
console.log('\nLLaMA-7B model-level runs (dense INT8 baseline on the same array)');
table(modelRows);

const resources = { [hbm.name]: estimateResources(hbm), [ddr.name]: estimateResources(ddr) };
if (outPath) {
  writeJson(outPath, {
    machine,
    note: 'shared 2-vCPU machine; wall times are for the simulator itself, cycle/energy numbers are simulated',
    analytical: { decodeMs: tDecode, prefillMs: tPrefill, decodeFolds: folds },
    cycleLevel: cycleRows,
    computeBound: { config: hbm, shape: computeShape, rows: computeRows },
    memoryBound: { config: ddr, shape: gemvShape, rows: memRows },
    model: modelRows,
    resources,
  });
  console.log(`\nwrote ${outPath}`);
}
