// A/B timing of two builds of this package in one process (kernel work: the VM's memory bandwidth drifts
// between runs by up to 2×, so before/after runs in separate processes cannot resolve 10 % changes).
//
//   node [--experimental-wasm-relaxed-simd] bench/ab-builds.mjs --a DIR --b DIR [--fmt dense|int4|2:4|2:4+int4|int3 (bench/synthetic.mjs: benchFormats)]
//        [--threads 1] [--rounds 15] [--variant baseline|relaxed] [--shapes 4096x4096,4096x11008,11008x4096]
//        [--resident] [--m 1]   (--shapes: any KxN, k = K → n = N)
//   node bench/ab-builds.mjs --a DIR --b DIR --probe [--threads 2] [--rounds 30]
//   node bench/ab-builds.mjs --a DIR --b DIR --attention M[:T] [--threads 2] [--rounds 20]
//
// Both builds' thread pools live in this one process, so use it for kernel changes only: a build whose idle worker
// spins longer steals a core from the other build's next pass (a worker spinning 10× longer read 1.12–1.31× "faster"
// here and the same as before in processes of their own).
//
// DIR holds a copy of a build, `dist/` and `wasm/`, inside this package so that its imports resolve
// (e.g. `git stash; pnpm build; mkdir -p abtest/A; cp -r dist wasm abtest/A; git stash pop; pnpm build`,
// then the same into abtest/B; abtest/ is ignored by git). Shapes are named as in compressed.bench.mjs
// (4096x11008: k = 4096 → n = 11008; 11008x4096: k = 11008 → n = 4096). Each
// round times one pass over ≥ 128 MiB of distinct weights per build, alternating which build goes first;
// the speedup printed is the median over rounds of time(A) / time(B), and the largest output difference
// between the builds is printed too. `--resident`: one weight, 20 calls per sample (cache-resident).
// `--m M`: batch M (GEMM) on one weight instead of the GEMV's weight set.
// `--probe`: the read probe of each build (256 MiB, every sum checked), GB/s and the per-round ratio.
// `--attention M[:T]`: LLaMA-7B-sized attention (32 heads × 128) of M query rows over T positions (default T = M,
// a causal prefill from position 0); M = 1 is a decode step with the append-only cache resident (10 calls per sample).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Tensor } from '@sparq/tensor';
import { benchFormats, uniform } from './synthetic.mjs';

const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const dirA = opt('a', 'abtest/A');
const dirB = opt('b', 'abtest/B');
const fmt = opt('fmt', 'int4');
const threads = Number(opt('threads', '1'));
const rounds = Number(opt('rounds', '15'));
const variant = opt('variant', 'baseline');
const m = Number(opt('m', '1'));
const resident = args.includes('--resident') || m > 1;
const reps = m > 1 ? 1 : resident ? 20 : 1;
// A shape KxN is k = K columns → n = N rows (as compressed.bench.mjs names its three); any other size works too
// (e.g. 1024x1024, a weight that fits the L2).
const shapes = opt('shapes', '4096x4096,4096x11008,11008x4096').split(',').map((s) => {
  const kn = /^(\d+)x(\d+)$/.exec(s);
  if (!kn) throw new Error(`--shapes: expected KxN (e.g. 4096x11008: k = 4096 → n = 11008), found "${s}"`);
  return { name: s, n: Number(kn[2]), k: Number(kn[1]) };
});
const FORMATS = benchFormats(128);
const F = FORMATS[fmt];
if (!F) throw new Error(`unknown --fmt ${fmt}; one of ${Object.keys(FORMATS).join(', ')}`);
const load = (dir) => import(pathToFileURL(resolve(dir, 'dist/index.js')).href);
const mods = { A: await load(dirA), B: await load(dirB) };
const median = (x) => [...x].sort((a, b) => a - b)[x.length >> 1];

/** Largest |a[i] − b[i]|. */
const maxAbsDiff = (a, b) => a.reduce((mx, v, i) => Math.max(mx, Math.abs(v - b[i])), 0);

/** Times `run(name)` for both builds over `n` rounds, alternating which goes first; returns medians and the ratio A / B. */
async function alternate(n, run) {
  const t = { A: [], B: [] };
  const ratios = [];
  for (let r = 0; r < n; r++) {
    const rt = {};
    for (const name of r % 2 ? ['B', 'A'] : ['A', 'B']) rt[name] = await run(name);
    t.A.push(rt.A);
    t.B.push(rt.B);
    ratios.push(rt.A / rt.B);
  }
  return { A: median(t.A), B: median(t.B), ratio: median(ratios) };
}

if (args.includes('--probe')) {
  const bytes = 256 << 20;
  const probes = {};
  for (const [name, mod] of Object.entries(mods)) {
    probes[name] = await mod.createCpuWasmProbes({ threads });
    probes[name].prepareRead(bytes);
    for (let i = 0; i < 3; i++) probes[name].readOnce(threads);
  }
  // GB/s as "time" inverted, so the printed ratio is B's bandwidth over A's.
  const r = await alternate(Number(opt('rounds', '30')), (name) => {
    const t0 = performance.now();
    const sum = probes[name].readOnce(threads);
    const ms = performance.now() - t0;
    if (sum !== bytes / 4) throw new Error(`probe ${name}: sum ${sum}, expected ${bytes / 4}`);
    return ms;
  });
  for (const p of Object.values(probes)) await p.dispose();
  console.log(`read probe threads=${threads}: A ${(bytes / r.A / 1e6).toFixed(1)} GB/s, B ${(bytes / r.B / 1e6).toFixed(1)} GB/s, B over A ${r.ratio.toFixed(3)} (median of per-round ratios)`);
  process.exit(0);
}

if (opt('attention', undefined)) {
  const [M, T = M] = opt('attention').split(':').map(Number);
  const nh = 32, hd = 128, kW = nh * hd;
  const attrs = { numHeads: nh, numKvHeads: nh, headDim: hd, qPos0: T - M };
  const x = { q: new Tensor('f32', [M, kW], uniform(M * kW, -1, 1)), k: new Tensor('f32', [T, kW], uniform(T * kW, -1, 1)), v: new Tensor('f32', [T, kW], uniform(T * kW, -1, 1)) };
  const decode = M === 1;
  const bes = {};
  for (const [name, mod] of Object.entries(mods)) {
    bes[name] = mod.createCpuWasmBackend({ threads });
    await bes[name].init();
    await bes[name].run('attention', x, decode ? { ...attrs, cacheId: 1, cachedRows: 0 } : attrs);
  }
  const outs = {};
  const reps = decode ? 10 : 1;
  const r = await alternate(Number(opt('rounds', '20')), async (name) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) outs[name] = (await bes[name].run('attention', x, decode ? { ...attrs, cacheId: 1, cachedRows: T } : attrs)).data;
    return (performance.now() - t0) / reps;
  });
  for (const be of Object.values(bes)) await be.dispose();
  console.log(`attention M=${M} T=${T} threads=${threads}: A ${r.A.toFixed(3)} ms, B ${r.B.toFixed(3)} ms, speedup B over A ${r.ratio.toFixed(3)} (median of per-round ratios), max |A − B| ${maxAbsDiff(outs.A, outs.B).toExponential(2)}`);
  process.exit(0);
}

for (const s of shapes) {
  const count = resident ? 1 : Math.max(1, Math.ceil((128 << 20) / F.bytes(s.n, s.k)));
  const ws = Array.from({ length: count }, () => F.make(s.n, s.k));
  const a = new Tensor('f32', [m, s.k], uniform(m * s.k, -1, 1));
  const bes = {};
  for (const [name, m] of Object.entries(mods)) {
    bes[name] = m.createCpuWasmBackend({ threads, simd: variant });
    await bes[name].init();
  }
  const call = (be, w) => (F.kernel === 'matmulDense' ? be.run(F.kernel, { a, b: w }, { transposeB: true }) : be.run(F.kernel, { a, w }, {}));
  const outs = {};
  for (const [name, be] of Object.entries(bes)) for (const w of ws) outs[name] = (await call(be, w)).data; // upload + warm-up
  const r = await alternate(rounds, async (name) => {
    const t0 = performance.now();
    for (let rep = 0; rep < reps; rep++) for (const w of ws) await call(bes[name], w);
    return (performance.now() - t0) / count / reps;
  });
  for (const be of Object.values(bes)) await be.dispose();
  console.log(
    `${fmt} ${s.name} m=${m} threads=${threads} ${variant}${resident && m === 1 ? ' resident' : ''}: A ${r.A.toFixed(3)} ms, B ${r.B.toFixed(3)} ms, ` +
      `speedup B over A ${r.ratio.toFixed(3)} (median of per-round ratios), max |A − B| ${maxAbsDiff(outs.A, outs.B).toExponential(2)}` +
      // Per-thread time per 128 weights (one 64-byte line of 4-bit codes): compare with the clock to read cycles.
      (m === 1 ? `; A ${((r.A * 1e6 * threads) / ((s.n * s.k) / 128)).toFixed(2)} ns per 128 weights and thread` : ''),
  );
}
