import { Tensor } from '@sparq/tensor';
import { createCpuWasmBackend } from '../dist/index.js';
const be = createCpuWasmBackend({ threads: 2 });
const nh = 32, hd = 128, kW = nh * hd, T = 700;
const r = (n) => new Float32Array(n).map(() => Math.random() - 0.5);
const k = r(T * kW), v = r(T * kW), q = r(600 * kW);
const base = { numHeads: nh, numKvHeads: nh, headDim: hd };
let t0 = performance.now();
await be.run('attention', { q: new Tensor('f32', [600, kW], q), k: new Tensor('f32', [600, kW], k.subarray(0, 600 * kW)), v: new Tensor('f32', [600, kW], v.subarray(0, 600 * kW)) }, { ...base, qPos0: 0, cacheId: 1, cachedRows: 0 });
console.log('prefill 600', (performance.now() - t0).toFixed(1), 'ms');
for (let t = 601; t <= 606; t++) {
  t0 = performance.now();
  await be.run('attention', { q: new Tensor('f32', [1, kW], q.subarray(0, kW)), k: new Tensor('f32', [t, kW], k.subarray(0, t * kW)), v: new Tensor('f32', [t, kW], v.subarray(0, t * kW)) }, { ...base, qPos0: t - 1, cacheId: 1, cachedRows: t - 1 });
  console.log('decode t', t, (performance.now() - t0).toFixed(2), 'ms');
}
await be.dispose();
