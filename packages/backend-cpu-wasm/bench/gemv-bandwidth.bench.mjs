// GEMV read bandwidth as a fraction of the read probe, measured in pairs (run after build):
//   node [--experimental-wasm-relaxed-simd] bench/gemv-bandwidth.bench.mjs [--threads 2] [--rounds 40]
//        [--formats dense,int4,2:4,2:4+int4] [--shapes 4096x4096,4096x11008,11008x4096] [--out file.json]
//
// Why pairs: with 2 threads this VM streams at one of two levels (~33–40 or ~50–62 GB/s), switching every
// few seconds. compressed.bench.mjs runs its probe once, seconds before the kernels, so its "% of bw" can divide
// a slow-level kernel by a fast-level probe or the reverse (63–125 % seen). Here every round times the probe,
// then one pass of the GEMV over its weight set (≥ 128 MiB of distinct weights, 4× the L3), then the probe
// again; the round's fraction is GEMV GB/s ÷ the mean of the two probes around it. Rounds whose two probes
// differ by more than 15 % straddle a level switch and are dropped (counted in the output). The rest are
// reported together and per level (rounds whose probe is above / below the midpoint of the run's fastest and
// slowest probe, when those differ by more than 25 %). Bytes are the sparq-format sizes (bench/synthetic.mjs),
// as in compressed.bench.mjs.
import { BANDWIDTH_PROBE_BYTES, summarize, table, writeJson } from '@sparq/bench';
import { Tensor } from '@sparq/tensor';
import { createCpuWasmBackend, createCpuWasmProbes, relaxedSimdAvailable } from '../dist/index.js';
import { benchFormats, uniform } from './synthetic.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const threads = Number(opt('threads', '2'));
const rounds = Number(opt('rounds', '40'));
const out = opt('out', undefined);
const FORMATS = benchFormats(128);
const formats = opt('formats', 'dense').split(',');
for (const f of formats) if (!FORMATS[f]) throw new Error(`unknown format ${f}; one of ${Object.keys(FORMATS).join(', ')}`);
const SHAPES = { '4096x4096': [4096, 4096], '4096x11008': [11008, 4096], '11008x4096': [4096, 11008] };
const shapes = opt('shapes', Object.keys(SHAPES).join(',')).split(',').map((s) => {
  if (!SHAPES[s]) throw new Error(`unknown shape ${s}; one of ${Object.keys(SHAPES).join(', ')}`);
  return { name: s, n: SHAPES[s][0], k: SHAPES[s][1] };
});
const variant = (await relaxedSimdAvailable()) ? 'relaxed' : 'baseline';

const probes = await createCpuWasmProbes({ threads });
probes.prepareRead(BANDWIDTH_PROBE_BYTES);
const probe = () => {
  const t0 = performance.now();
  probes.readOnce(threads);
  return BANDWIDTH_PROBE_BYTES / (performance.now() - t0) / 1e6;
};
for (let i = 0; i < 3; i++) probe(); // tier-up and page-in
const be = createCpuWasmBackend({ threads });
await be.init();
const pct = (x) => `${(100 * x).toFixed(0)} %`;
const rows = [];
const raw = [];
for (const s of shapes) {
  for (const f of formats) {
    const F = FORMATS[f];
    const count = Math.max(1, Math.ceil((128 << 20) / F.bytes(s.n, s.k)));
    const ws = Array.from({ length: count }, () => F.make(s.n, s.k));
    const a = new Tensor('f32', [1, s.k], uniform(s.k, -1, 1));
    const call = (w) => (F.kernel === 'matmulDense' ? be.run(F.kernel, { a, b: w }, { transposeB: true }) : be.run(F.kernel, { a, w }, {}));
    for (let r = 0; r < 2; r++) for (const w of ws) await call(w); // upload, tier-up
    const kept = [];
    let straddled = 0;
    for (let r = 0; r < rounds; r++) {
      const p0 = probe();
      const t0 = performance.now();
      for (const w of ws) await call(w);
      const gemv = (count * F.bytes(s.n, s.k)) / (performance.now() - t0) / 1e6;
      const p1 = probe();
      if (Math.max(p0, p1) / Math.min(p0, p1) > 1.15) {
        straddled++;
        continue;
      }
      kept.push({ probe: (p0 + p1) / 2, gemv, frac: gemv / ((p0 + p1) / 2) });
    }
    raw.push({ shape: s.name, format: f, rounds: kept, straddled });
    const ps = kept.map((x) => x.probe);
    const lo = Math.min(...ps), hi = Math.max(...ps);
    const split = hi / lo > 1.25 ? (lo + hi) / 2 : Infinity;
    const levels = split === Infinity ? [['all', kept]] : [['all', kept], ['fast', kept.filter((x) => x.probe >= split)], ['slow', kept.filter((x) => x.probe < split)]];
    for (const [level, xs] of levels) {
      if (xs.length === 0) continue;
      const fr = summarize(xs.map((x) => x.frac));
      rows.push({
        shape: s.name, format: f, threads, level, rounds: xs.length, straddled: level === 'all' ? straddled : '',
        'probe GB/s': summarize(xs.map((x) => x.probe)).median, 'GEMV GB/s': summarize(xs.map((x) => x.gemv)).median,
        'of probe': pct(fr.median), 'p10–p90': `${pct(fr.p10)}–${pct(fr.p90)}`,
      });
    }
  }
}
await be.dispose();
await probes.dispose();
console.log(`wasm SIMD build: ${variant}; ${threads} thread(s); ${rounds} rounds per case`);
table(rows);
if (out) {
  writeJson(out, { when: new Date().toISOString(), node: process.version, variant, threads, rows, raw });
  console.log(`wrote ${out}`);
}
