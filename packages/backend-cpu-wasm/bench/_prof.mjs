import { Tensor } from '@sparq/tensor';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { benchFormats, uniform } from './synthetic.mjs';
const fmt = process.argv[2] ?? '4:8', m = Number(process.argv[3] ?? 32), threads = Number(process.argv[4] ?? 1);
const F = benchFormats(128)[fmt];
const be = createCpuWasmBackend({ threads });

const w = F.make(4096, 4096);
const a = new Tensor('f32', [m, 4096], uniform(m * 4096, -1, 1));
const run = () => be.run(F.kernel, { a, w }, {});
let t0 = performance.now();
for (let i = 0; i < 3; i++) await run();
const N = 20; t0 = performance.now();
for (let i = 0; i < N; i++) await run();
console.log(fmt, 'm', m, ((performance.now() - t0) / N).toFixed(2), 'ms');
be.dispose?.();
