// LLaMA-7B-sized INT4 decode on the cpu-wasm backend: more packed weights than
// one 4 GiB wasm32 memory comfortably holds (run after build; needs ~8 GiB RAM):
//   node bench/llama7b-memory.bench.mjs [--threads 2] [--max-memory-gib 2] [--tokens 5] [--blocks 32] [--out file.json]
// Uploads 32 blocks × 7 linears (q, k, v, o: 4096×4096; gate, up: 11008×4096;
// down: 4096×11008) as synthetic INT4 g128 asymmetric weights (docs/format.md
// §2; 3.37 GB in the format, ~3.6 GB uploaded), then times decode passes: one
// GEMV (m = 1) per linear, i.e. the weight traffic of one token. Prints the
// wasm memories used, bytes per memory, peak RSS, upload time and time per
// token (median and p90 over --tokens passes) with weight bytes/token and GB/s.
// --max-memory-gib caps one memory (default 2 GiB, so the weights need two
// memories; 0 = the backend default of 4 GiB − 64 MiB).
// The synthetic matrices of one shape share their JS arrays (only the device
// copies are distinct), so peak RSS is dominated by the wasm memories.
import { f16Scales, randomBytes, reseed } from './synthetic.mjs';
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { summarize, table, writeJson } from '@sparq/bench';
import { Tensor } from '@sparq/tensor';
import { cpuWasmMemoryStats, createCpuWasmBackend, relaxedSimdAvailable } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const threads = opt('threads', Math.min(2, availableParallelism()));
const capGiB = opt('max-memory-gib', 2);
const tokens = opt('tokens', 5);
const blocks = opt('blocks', 32);
const outIdx = args.indexOf('--out');
const outPath = outIdx >= 0 ? args[outIdx + 1] : undefined;
const G = 128;
const GB = 1e9;
reseed(0x2545f491);


/** One set of random arrays per shape, shared by every matrix of that shape. */
const shapes = {
  attn: { rows: 4096, cols: 4096 },
  up: { rows: 11008, cols: 4096 },
  down: { rows: 4096, cols: 11008 },
};
for (const s of Object.values(shapes)) {
  const n = s.rows * s.cols;
  s.codes = randomBytes(n / 2);
  s.scales = f16Scales(n / G);
  s.zeros = randomBytes(n / G / 2);
  s.a = new Tensor('f32', [1, s.cols], Float32Array.from(randomBytes(s.cols), (b) => (b - 127.5) / 128));
}
const LINEARS = ['attn', 'attn', 'attn', 'attn', 'up', 'up', 'down'];
const formatBytes = (s) => (s.rows * s.cols) / 2 + ((s.rows * s.cols) / G) * 2.5; // §2: 4-bit codes, f16 scales, 4-bit zeros

const simd = (await relaxedSimdAvailable()) ? 'relaxed' : 'baseline';
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} vCPU, node ${process.version}, wasm SIMD build: ${simd}, ` +
    `threads ${threads}, ${blocks} blocks, max memory ${capGiB > 0 ? `${capGiB} GiB` : 'default'}`,
);

const be = createCpuWasmBackend({ threads, ...(capGiB > 0 ? { maxMemoryBytes: capGiB * 2 ** 30 } : {}) });
await be.init();
const weights = [];
let bytesPerToken = 0;
const t0 = performance.now();
for (let b = 0; b < blocks; b++) {
  for (const name of LINEARS) {
    const s = shapes[name];
    const w = { kind: 'quant', rows: s.rows, cols: s.cols, bits: 4, groupSize: G, sym: false, codes: s.codes, scales: s.scales, zeros: s.zeros };
    weights.push({ w, a: s.a });
    bytesPerToken += formatBytes(s);
    await be.run('matmulQuant', { a: s.a, w }, {}); // first use uploads
  }
}
const uploadS = (performance.now() - t0) / 1000;
const stats = cpuWasmMemoryStats(be);
const uploaded = stats.weightBytes.reduce((x, y) => x + y, 0);

// Decode passes: one GEMV per linear, in model order.
const samples = [];
let check = 0;
for (let t = 0; t < tokens + 1; t++) {
  const s0 = performance.now();
  for (const { w, a } of weights) {
    const y = await be.run('matmulQuant', { a, w }, {});
    check += y.data[0];
  }
  if (t > 0) samples.push(performance.now() - s0); // pass 0 warms up
}
const r = summarize(samples);
const rssGiB = (process.resourceUsage().maxRSS * 1024) / 2 ** 30;
const row = {
    linears: weights.length,
    'format GB': bytesPerToken / GB,
    'uploaded GB': uploaded / GB,
    memories: stats.memories,
    'GB per memory': stats.weightBytes.map((x) => (x / GB).toFixed(2)).join(' / '),
    'peak RSS GiB': rssGiB,
    'upload s': uploadS,
    'ms/token median': r.median,
    'ms/token p90': r.p90,
    'GB/s (format)': bytesPerToken / GB / (r.median / 1000),
    'GB/s (uploaded)': uploaded / GB / (r.median / 1000),
};
table([row]);
if (outPath) {
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, simd, date: new Date().toISOString() };
  writeJson(resolve(process.cwd(), outPath), { machine, threads, blocks, maxMemoryGiB: capGiB, tokensMs: samples, memoryBytes: stats.memoryBytes, weightBytes: stats.weightBytes, ...row });
  console.log(`wrote ${outPath}`);
}
if (!Number.isFinite(check)) console.log('warning: non-finite outputs');
await be.dispose();
