// Attention kernel alone on the cpu-wasm backend (run after build):
//   node bench/attention.bench.mjs
// LLaMA-7B-sized heads (32 × 128), 2 threads. Decode steps at 160 and 1024 cached positions, timed with the
// append-only cache hint (`cacheId` / `cachedRows`: the cache stays resident in wasm memory) and without it (the
// whole cache copied per call), best of 30; prefills of 128 and 600 tokens, best of 5. Random inputs: only time
// matters here (correctness is src/kernels/attention.test.ts). Results: docs/benchmarks/cpu-end-to-end.md.
import { Tensor } from '@sparq/tensor';
import { createCpuWasmBackend } from '../dist/index.js';
const be = createCpuWasmBackend({ threads: 2 });
const nh = 32, hd = 128, kW = nh * hd;
const r = (n) => new Float32Array(n).map(() => Math.random() - 0.5);
const base = { numHeads: nh, numKvHeads: nh, headDim: hd };
for (const tk of [160, 1024]) {
  const k = r(tk * kW), v = r(tk * kW);
  const x = { q: new Tensor('f32', [1, kW], r(kW)), k: new Tensor('f32', [tk, kW], k), v: new Tensor('f32', [tk, kW], v) };
  await be.run('attention', x, { ...base, qPos0: tk - 1, cacheId: tk, cachedRows: 0 });
  let best = 1e9, bestCopy = 1e9;
  for (let i = 0; i < 30; i++) {
    let t0 = performance.now();
    await be.run('attention', x, { ...base, qPos0: tk - 1, cacheId: tk, cachedRows: tk });
    best = Math.min(best, performance.now() - t0);
    t0 = performance.now();
    await be.run('attention', x, { ...base, qPos0: tk - 1 });
    bestCopy = Math.min(bestCopy, performance.now() - t0);
  }
  console.log(`decode t=${tk}: resident ${best.toFixed(3)} ms, per-call copy ${bestCopy.toFixed(3)} ms (best of 30)`);
}
for (const m of [128, 600]) {
  const x = { q: new Tensor('f32', [m, kW], r(m * kW)), k: new Tensor('f32', [m, kW], r(m * kW)), v: new Tensor('f32', [m, kW], r(m * kW)) };
  let best = 1e9;
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); await be.run('attention', x, { ...base, qPos0: 0 }); best = Math.min(best, performance.now() - t0); }
  console.log(`prefill ${m}: ${best.toFixed(1)} ms (best of 5)`);
}
await be.dispose();
