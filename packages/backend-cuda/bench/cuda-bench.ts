/**
 * CUDA kernel benchmark (run on a GPU; see scripts/gpu-check.sh). Measures,
 * in one process: the device limits (read bandwidth, mma.sync f16 and
 * mma.sp peaks), then every kernel at the LLaMA-7B layer shapes
 * (4096×4096, 11008×4096, 4096×11008) and batch 1…4096, timed with CUDA
 * events around each launch (warm-up launches first, medians reported).
 * Baseline: cuBLAS f16 GEMM (cublasGemmEx, f32 accumulate) when libcublas can
 * be loaded, else this package's dense f16 kernel. All kernels get the same
 * f16 activations; y is f32. Weight contents are random (timing does not
 * depend on values; 2:4 metadata keeps positions 0 and 1 everywhere).
 * Writes cuda-bench.json and cuda-bench.md to the folder in argv[2] (default .).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cudaStatus, loadCudaAddon, roundUp, type CudaAddon, type DevicePtr, type LaunchArgs } from '../src/index';

const outDir = process.argv[2] ?? '.';
mkdirSync(outDir, { recursive: true });
const SHAPES: [number, number][] = [
  [4096, 4096],
  [11008, 4096],
  [4096, 11008],
];
const BATCHES = (process.env.SPARQ_BENCH_BATCHES ?? '1,16,128,512,4096').split(',').map(Number);
const GROUP = 128;

function median(xs: Float64Array | number[]): { median: number; p10: number; p90: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * (s.length - 1) + 0.5))]!;
  return { median: q(0.5), p10: q(0.1), p90: q(0.9) };
}

/** Random f16 bit patterns of N(0, 0.02²)-ish values (a tiled table: fast for 10⁸ elements). */
function randomF16(count: number, scale = 1): Uint16Array {
  const table = new Uint16Array(4093);
  for (let i = 0; i < table.length; i++) {
    const u = (Math.random() + Math.random() + Math.random() - 1.5) * scale;
    const f = new Float32Array([u]);
    const b = new Uint32Array(f.buffer)[0]!;
    const e = ((b >>> 23) & 0xff) - 127 + 15;
    table[i] = e <= 0 ? 0 : ((b >>> 16) & 0x8000) | (Math.min(e, 30) << 10) | ((b >>> 13) & 0x3ff);
  }
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = table[i % 4093]!;
  return out;
}

function randomU32(count: number): Uint32Array {
  const out = new Uint32Array(count);
  let x = 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out;
}

function fill16(count: number, v: number): Uint16Array {
  return new Uint16Array(count).fill(v);
}

const status = cudaStatus();
if (!status.available) {
  const msg = `CUDA benchmark not run: ${status.reason}`;
  console.log(msg);
  writeFileSync(join(outDir, 'cuda-bench.json'), JSON.stringify({ available: false, reason: status.reason }, null, 2));
  process.exit(0);
}
const load = loadCudaAddon();
if (!load.ok) throw new Error(load.reason);
const addon: CudaAddon = load.addon;
const dev = status.devices.find((d) => d.sm >= 80)!;
console.log(`device: ${dev.name} (sm_${dev.sm}, ${(dev.memory / 2 ** 30).toFixed(0)} GiB, ${dev.multiProcessors} SMs), driver ${status.driverVersion}, runtime ${status.runtimeVersion}, cuBLAS: ${status.cublas}`);

const live: DevicePtr[] = [];
function up(data: ArrayBufferView): DevicePtr {
  const p = addon.alloc(data.byteLength);
  addon.upload(p, data);
  live.push(p);
  return p;
}
function alloc(bytes: number): DevicePtr {
  const p = addon.alloc(bytes);
  live.push(p);
  return p;
}
function freeAll(): void {
  for (const p of live.splice(0)) addon.free(p);
}
function time(kernel: string, args: LaunchArgs, iters = 30, warmup = 5) {
  return median(addon.bench(kernel, args, warmup, iters));
}

// ---- device limits, same run ----------------------------------------------
const sink = addon.alloc(16); // not in `live`: freed last
const bwBytes = 4 * 2 ** 30;
const bwBuf = alloc(bwBytes);
addon.memset(bwBuf, bwBytes);
const bw = time('probe_bw', { buf: bwBuf, bytes: bwBytes, sink }, 20, 3);
const bandwidthTBs = bwBytes / (bw.median * 1e-3) / 1e12;
addon.free(bwBuf);
live.splice(live.indexOf(bwBuf), 1);
const mmaBlocks = dev.multiProcessors * 8;
const mmaIters = 4096;
const warpsTotal = mmaBlocks * 8;
const mma = time('probe_mma', { sink, iters: mmaIters, blocks: mmaBlocks }, 10, 2);
const mmaTflops = (warpsTotal * mmaIters * 4 * 2 * 16 * 8 * 16) / (mma.median * 1e-3) / 1e12;
const sp = time('probe_mma_sp', { sink, iters: mmaIters, blocks: mmaBlocks }, 10, 2);
const spTflops = (warpsTotal * mmaIters * 4 * 2 * 16 * 8 * 32) / (sp.median * 1e-3) / 1e12;
console.log(`measured limits: read bandwidth ${bandwidthTBs.toFixed(2)} TB/s, mma.sync f16→f32 ${mmaTflops.toFixed(0)} TFLOP/s, mma.sp ${spTflops.toFixed(0)} TFLOP/s (dense-equivalent)`);

// ---- kernels ----------------------------------------------------------------
interface Row {
  shape: string;
  batch: number;
  kernel: string;
  ms: number;
  p10: number;
  p90: number;
  tbs: number;
  tflops: number;
  fracBw: number;
  fracPeak: number;
  speedup: number;
}
const rows: Row[] = [];
const useCublas = status.cublas === 'loaded';
for (const [n, k] of SHAPES) {
  const nPad16 = roundUp(n, 16);
  const nPad32 = roundUp(n, 32);
  const kPad = roundUp(k, 32);
  const groups = k / GROUP;
  // Weights of every format, uploaded once per shape.
  const wRow = useCublas ? up(randomF16(n * k)) : undefined;
  const wDense = up(randomF16(nPad16 * kPad));
  const wInt4 = up(randomU32((nPad16 * kPad) / 8));
  const scales = up(randomF16(nPad32 * groups, 0.02));
  const zeros = up(fill16(nPad32 * groups, 0x4800)); // 8.0
  const wSp = up(randomF16((nPad32 * kPad) / 2));
  const meta = up(fill16((nPad32 * kPad) / 16, 0x4444));
  const wSpInt4 = up(randomU32((nPad32 * kPad) / 16));
  const kernels: [string, string, LaunchArgs, number][] = [
    ...(useCublas ? ([['cuBLAS f16', 'cublas_f16', { w: wRow, n, k }, n * k * 2]] as [string, string, LaunchArgs, number][]) : []),
    ['dense f16 (mma)', 'dense_f16', { w: wDense, nPad: nPad16, kPad }, nPad16 * kPad * 2],
    ['INT4 g128 (mma)', 'int4', { w: wInt4, scales, zeros, groups, groupSize: GROUP, nPad: nPad16, kPad }, (nPad16 * kPad) / 2 + nPad16 * groups * 4],
    ['2:4 f16 (mma.sp)', 'sparse24', { w: wSp, meta, nPad: nPad32, kPad }, nPad32 * kPad + (nPad32 * kPad) / 8],
    [
      '2:4+INT4 g128 (mma.sp)',
      'sparse24_int4',
      { w: wSpInt4, meta, scales, zeros, groups, groupSize: GROUP, nPad: nPad32, kPad },
      (nPad32 * kPad) / 4 + (nPad32 * kPad) / 8 + nPad32 * groups * 4,
    ],
  ];
  for (const m of BATCHES) {
    const mPad = roundUp(m, 8);
    const x = up(randomF16(mPad * kPad));
    const y = alloc(m * n * 4);
    let base = NaN;
    for (const [label, kernel, args, weightBytes] of kernels) {
      const t = time(kernel, { ...args, x, y, m, mPad, n, kPad, k });
      const bytes = weightBytes + m * k * 2 + m * n * 4;
      const flops = 2 * m * n * k;
      const tbs = bytes / (t.median * 1e-3) / 1e12;
      const tflops = flops / (t.median * 1e-3) / 1e12;
      const peak = kernel.startsWith('sparse') ? spTflops : mmaTflops;
      if (Number.isNaN(base)) base = t.median;
      const row: Row = { shape: `${n}×${k}`, batch: m, kernel: label, ms: t.median, p10: t.p10, p90: t.p90, tbs, tflops, fracBw: tbs / bandwidthTBs, fracPeak: tflops / peak, speedup: base / t.median };
      rows.push(row);
      console.log(`${row.shape} m=${m} ${label}: ${t.median.toFixed(4)} ms (p10 ${t.p10.toFixed(4)}, p90 ${t.p90.toFixed(4)}), ${tbs.toFixed(2)} TB/s, ${tflops.toFixed(1)} TFLOP/s, ×${row.speedup.toFixed(2)} vs ${kernels[0]![0]}`);
    }
    addon.free(x);
    addon.free(y);
    live.splice(live.indexOf(x), 1);
    live.splice(live.indexOf(y), 1);
  }
  freeAll();
}

const baseline = useCublas ? 'cuBLAS f16' : 'dense f16 (mma)';
const md: string[] = [
  `Device: ${dev.name} (sm_${dev.sm}, ${dev.multiProcessors} SMs), driver ${status.driverVersion}, CUDA runtime ${status.runtimeVersion} (static). cuBLAS: ${status.cublas}.`,
  '',
  `Measured limits (same run): read bandwidth **${bandwidthTBs.toFixed(2)} TB/s**; mma.sync m16n8k16 f16→f32 **${mmaTflops.toFixed(0)} TFLOP/s**; mma.sp m16n8k32 **${spTflops.toFixed(0)} TFLOP/s** (dense-equivalent).`,
  '',
  `Times: CUDA events per launch, 5 warm-up + 30 timed launches, median (p10–p90). Speedup = ${baseline} time / kernel time, same shape and batch. TB/s counts weight + activation + output bytes once; TFLOP/s counts 2·m·n·k (dense-equivalent for sparse kernels).`,
  '',
  '| shape (n×k) | batch | kernel | median ms | p10–p90 ms | TB/s | % bw | TFLOP/s | % peak | speedup |',
  '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.shape} | ${r.batch} | ${r.kernel} | ${r.ms.toFixed(4)} | ${r.p10.toFixed(4)}–${r.p90.toFixed(4)} | ${r.tbs.toFixed(2)} | ${(100 * r.fracBw).toFixed(0)} | ${r.tflops.toFixed(1)} | ${(100 * r.fracPeak).toFixed(0)} | ${r.speedup.toFixed(2)} |`,
  ),
  '',
  `Ratios vs dense f16 (${baseline}); the seed paper reports 1.71× for 2:4 + INT4 over dense f16:`,
  '',
  '| shape | batch | INT4/dense | 2:4/dense | 2:4+INT4/dense |',
  '|---|---:|---:|---:|---:|',
];
for (const [n, k] of SHAPES) {
  for (const m of BATCHES) {
    const at = (label: string) => rows.find((r) => r.shape === `${n}×${k}` && r.batch === m && r.kernel === label)?.speedup ?? NaN;
    md.push(`| ${n}×${k} | ${m} | ${at('INT4 g128 (mma)').toFixed(2)}× | ${at('2:4 f16 (mma.sp)').toFixed(2)}× | ${at('2:4+INT4 g128 (mma.sp)').toFixed(2)}× |`);
  }
}
writeFileSync(join(outDir, 'cuda-bench.md'), md.join('\n') + '\n');
writeFileSync(
  join(outDir, 'cuda-bench.json'),
  JSON.stringify({ device: dev, status, limits: { bandwidthTBs, mmaTflops, mmaSpTflops: spTflops, probes: { bw, mma, sp } }, baseline, rows }, null, 2),
);
freeAll();
addon.free(sink);
console.log(`wrote ${join(outDir, 'cuda-bench.md')} and cuda-bench.json`);
