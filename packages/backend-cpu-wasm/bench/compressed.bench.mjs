// Compressed GEMV / GEMM benchmark of the cpu-wasm backend (run after build):
//   node [--experimental-wasm-relaxed-simd] bench/compressed.bench.mjs [--out docs/benchmarks/cpu.json] [--quick] [--gemv-only]
//        [--threads 1,2] [--formats int4,2:4,2:4+int4,int3,f16,bf16] [--shapes 4096x4096,4096x11008,11008x4096] [--group 128]
//        [--batches 1,4,16,128]
// Formats (bench/synthetic.mjs): dense f32 (the baseline, measured in the same run), INT4 g128
// (asymmetric), INT8 g128, 2:4 f32, 2:4 + INT4 / INT8 g128, 4:8, 4:8 + INT4 / INT8, 1:4, 1:4 + INT4, SpQR 3-bit,
// on 1 and 2 threads (plus INT2, INT3 and 4:8 + INT3 GEMVs; f16 and bf16: dense weights stored in half precision). GEMV cycles
// through distinct weights whose streamed bytes total ≥ 128 MiB (4× the 32 MiB
// L3) so weights come from DRAM; GEMM runs batch 128 on one weight. Weight
// bytes are the sizes in the sparq format (docs/format.md §2–§4); the uploaded
// forms stream a little more (f32 scale/zero pairs, 2:4 pair offsets). Every row
// is reported as a ratio to dense f32 (same shape, same threads, same run: the
// median over rounds of the per-round ratio, with its p10–p90) and
// as a fraction of the measured read bandwidth (GEMV) or SIMD mul+add peak
// (GEMM, dense-equivalent flops). `--quick` is a smoke run, not for numbers.
// The backend uses the relaxed-SIMD build when the engine accepts it (Node 20:
// --experimental-wasm-relaxed-simd); the variant is printed and recorded.
import { benchFormats, uniform } from './synthetic.mjs';
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { probeMemoryBandwidth, probeSimdPeak, summarize, table, writeJson } from '@sparq/bench';
import { Tensor } from '@sparq/tensor';
import { createCpuWasmBackend, createCpuWasmProbes, packedPath, relaxedSimdAvailable } from '../dist/index.js';

const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const outPath = outIdx >= 0 ? args[outIdx + 1] : undefined;
const quick = args.includes('--quick');
const gemvOnly = args.includes('--gemv-only');
const listArg = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1].split(',') : undefined;
};
// --threads 2 / --formats dense,int4 / --shapes 4096x4096: subsets for quick checks (dense is always kept: it is the baseline).
const THREADS = listArg('threads')?.map(Number) ?? [...new Set([1, Math.min(2, availableParallelism())])];
const onlyFormats = listArg('formats');
const onlyShapes = listArg('shapes');
/** Streamed weight bytes cycled per GEMV case: 4× the 32 MiB L3. */
const GEMV_SET_BYTES = 128 << 20;
const GEMM_M = 128;
/** Batches run (`--batches`, default the GEMV and batch 128; `--gemv-only` the GEMV). */
const BATCHES = listArg('batches')?.map(Number) ?? (gemvOnly ? [1] : [1, GEMM_M]);
/** Largest batch whose weights cycle through the GEMV's DRAM-sized set (small batches: decode of several sequences). */
const SMALL_M = 32;
/** Group size of the quantized formats (`--group`, default 128). */
const G = Number(listArg('group')?.[0] ?? 128);
if (!Number.isInteger(G) || G < 1) throw new Error(`--group must be a positive integer, found ${listArg('group')?.[0]}`);
const FORMATS = benchFormats(G);

const simd = (await relaxedSimdAvailable()) ? 'relaxed' : 'baseline';
const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, simd, date: new Date().toISOString() };
console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}, wasm SIMD build: ${simd}, groups of ${G}${quick ? ' (--quick: smoke run)' : ''}`);

// --- probes -----------------------------------------------------------------
const probes = await createCpuWasmProbes({ threads: Math.max(...THREADS) });
const peak = {};
for (const t of THREADS) {
  const bw = await probeMemoryBandwidth({ threads: t, probes, ...(quick ? { bytes: 64 << 20 } : {}) });
  const simd = await probeSimdPeak({ threads: t, probes, ...(quick ? { iters: 2_000_000 } : {}) });
  peak[t] = { gbps: bw.gbps, gflops: simd.gflops };
}
await probes.dispose();
table(THREADS.map((t) => ({ threads: t, 'read GB/s': peak[t].gbps, 'SIMD mul+add GFLOP/s': peak[t].gflops })));

// --- cases ------------------------------------------------------------------
// One backend per (shape, batch, threads) holds every format's weights; formats
// are timed round-robin (one pass over a format's weight set per round), so
// interference from other processes on this shared machine hits all formats
// alike and the ratios to dense stay meaningful. A GEMV sample is one pass over
// the format's distinct weights (≥ 128 MiB streamed) divided by their count.
const shapes = quick
  ? [{ name: '1024x1024', n: 1024, k: 1024 }]
  : [
      { name: '4096x4096', n: 4096, k: 4096 },
      { name: '4096x11008', n: 11008, k: 4096 },
      { name: '11008x4096', n: 4096, k: 11008 },
    ];

const rows = [];
for (const s of shapes.filter((x) => !onlyShapes || onlyShapes.includes(x.name))) {
  for (const m of BATCHES) {
    const fmts = Object.entries(FORMATS).filter(([f, F]) => (!F.only || F.only(s, m)) && (!onlyFormats || f === 'dense' || onlyFormats.includes(f)));
    const caseName = `${m === 1 ? 'gemv' : `batch ${m}`} ${s.name}`;
    const started = performance.now();
    // Progress on stderr (the table goes to stdout at the end): a full run takes tens of minutes.
    process.stderr.write(`${caseName}: making ${fmts.length} formats' weights… `);
    const sets = fmts.map(([fmt, F]) => {
      const wBytes = F.bytes(s.n, s.k);
      // Decode-sized batches stream their weights from DRAM like the GEMV; prefill batches reuse one weight.
      const count = m <= SMALL_M ? Math.max(1, Math.ceil((quick ? 16 << 20 : GEMV_SET_BYTES) / wBytes)) : 1;
      return { fmt, F, wBytes, count, ws: Array.from({ length: count }, () => F.make(s.n, s.k)) };
    });
    const a = new Tensor('f32', [m, s.k], uniform(m * s.k, -1, 1));
    for (const t of THREADS) {
      process.stderr.write(`timing on ${t} thread${t > 1 ? 's' : ''}… `);
      const be = createCpuWasmBackend({ threads: t });
      await be.init();
      const call = (set, w) => (set.F.kernel === 'matmulDense' ? be.run(set.F.kernel, { a, b: w }, { transposeB: true }) : be.run(set.F.kernel, { a, w }, {}));
      // Upload every weight and warm up (one untimed pass each).
      for (const set of sets) for (const w of set.ws) await call(set, w);
      const samples = sets.map(() => []);
      const rounds = quick ? 3 : m === 1 ? 25 : m <= SMALL_M ? 9 : 5;
      for (let r = 0; r < rounds; r++) {
        for (let f = 0; f < sets.length; f++) {
          const set = sets[f];
          const t0 = performance.now();
          for (const w of set.ws) await call(set, w);
          samples[f].push((performance.now() - t0) / set.count);
        }
      }
      await be.dispose();
      const stats = samples.map((x) => summarize(x));
      sets.forEach((set, f) => {
        const r = stats[f];
        // × dense per round (dense and this format timed back to back), then the median and spread: the VM's
        // bandwidth level changes every few seconds, and a ratio of two medians can pair different levels.
        const ratio = summarize(samples[0].map((d, i) => d / samples[f][i]));
        const flops = 2 * m * s.k * s.n;
        const gbps = set.wBytes / r.median / 1e6;
        const gflops = flops / r.median / 1e6;
        rows.push({
          case: `${m === 1 ? 'gemv' : `gemm m=${m}`} ${s.name}`,
          format: set.fmt,
          path: set.F.kernel === 'matmulDense' ? set.fmt : packedPath(set.ws[0], m, true).path,
          threads: t,
          'median ms': r.median,
          'p90 ms': r.p90,
          'W MB': set.wBytes / 1e6,
          'GB/s': gbps,
          'dense-eq GFLOP/s': gflops,
          'x dense': ratio.median,
          'x dense p10–p90': `${ratio.p10.toFixed(2)}–${ratio.p90.toFixed(2)}`,
          'of peak': m === 1 ? `${((100 * gbps) / peak[t].gbps).toFixed(0)}% bw` : `${((100 * gflops) / peak[t].gflops).toFixed(0)}% simd`,
        });
      });
    }
    process.stderr.write(`done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }
}

table(rows);
if (outPath) {
  writeJson(resolve(process.cwd(), outPath), { machine, peak, rows, gemvSetBytes: GEMV_SET_BYTES, groupSize: G });
  console.log(`wrote ${outPath}`);
}
