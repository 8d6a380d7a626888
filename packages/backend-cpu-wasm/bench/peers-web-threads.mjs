// Does ONNX Runtime Web (WebAssembly backend) use threads when run in Node?
//   node bench/peers-web-threads.mjs [--out file.json]
// env.wasm.numThreads is fixed once per process (the wasm module starts once),
// so each setting runs in a child process of this script: one f32 MatMul GEMM
// (128 × 4096 · 4096 × 4096), 5 timed runs, reporting wall time, CPU time /
// wall time of the process (≈ the number of busy cores) and the threads the
// process gained when the session was created (its pthread workers).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, table, writeJson } from '@sparq/bench';

const args = process.argv.slice(2);
const child = args.indexOf('--child');

if (child >= 0) {
  const numThreads = Number(args[child + 1]);
  const ort = await import('onnxruntime-web');
  const { matMulModel } = await import('./onnx-graph.mjs');
  const { uniform } = await import('./peers-weights.mjs');
  ort.env.wasm.numThreads = numThreads;
  ort.env.logLevel = 'error';
  const k = 4096;
  const n = 4096;
  const m = 128;
  const tasks0 = readdirSync('/proc/self/task').length;
  const s = await ort.InferenceSession.create(matMulModel({ k, n, bKN: uniform(k * n, -1, 1) }), { executionProviders: ['wasm'] });
  const tasks1 = readdirSync('/proc/self/task').length;
  const feeds = { A: new ort.Tensor('float32', uniform(m * k, -1, 1), [m, k]) };
  await s.run(feeds);
  const wall = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await s.run(feeds);
    wall.push(performance.now() - t);
  }
  const c = process.cpuUsage(c0);
  const cpuPerWall = (c.user + c.system) / 1000 / (performance.now() - t0);
  const ms = summarize(wall).median;
  process.stdout.write(JSON.stringify({ numThreads, 'extra threads': tasks1 - tasks0, 'median ms': ms, 'GFLOP/s': (2 * m * k * n) / ms / 1e6, 'cpu/wall': cpuPerWall }));
} else {
  const outIdx = args.indexOf('--out');
  const rows = [];
  for (const t of [1, 2, 3, 4]) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(t)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`numThreads ${t}: child failed: ${r.stderr}`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)));
  }
  table(rows);
  if (outIdx >= 0) writeJson(resolve(process.cwd(), args[outIdx + 1]), { date: new Date().toISOString(), rows });
}
