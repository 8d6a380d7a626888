import { Tensor } from '@sparq/tensor';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { benchFormats, uniform } from './synthetic.mjs';
import { packBits } from '@sparq/format';
const fixed48 = (n, k, set) => { const kept = k / 2; const slots = new Uint8Array(n * kept); for (let g = 0; g < n * k / 8; g++) slots.set(set, 4 * g); return packBits(slots, n, kept, 3); };
const fmts = (process.argv[2] ?? '2:4,4:8').split(','), m = Number(process.argv[3] ?? 32), threads = Number(process.argv[4] ?? 1);
const be = createCpuWasmBackend({ threads });
const F = benchFormats(128);
F['4:8fix'] = { kernel: 'matmulNM', make: (n, k) => ({ kind: 'nm', rows: n, cols: k, n: 4, m: 8, values: uniform((n * k) / 2, -1, 1), indices: fixed48(n, k, [0, 1, 4, 5]) }) };
F['4:8seq'] = { kernel: 'matmulNM', make: (n, k) => ({ kind: 'nm', rows: n, cols: k, n: 4, m: 8, values: uniform((n * k) / 2, -1, 1), indices: fixed48(n, k, [0, 1, 2, 3]) }) };
const ws = fmts.map((f) => F[f].make(4096, 4096));
const a = new Tensor('f32', [m, 4096], uniform(m * 4096, -1, 1));
const t = fmts.map(() => []);
for (let r = 0; r < 12; r++) for (let i = 0; i < fmts.length; i++) { const t0 = performance.now(); for (let q = 0; q < 3; q++) await be.run(F[fmts[i]].kernel, { a, w: ws[i] }, {}); t[i].push((performance.now() - t0) / 3); }
const med = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
fmts.forEach((f, i) => console.log(f, 'm', m, med(t[i]).toFixed(2), 'ms'));
