// stories260K forward-pass throughput (run after build):
//   node bench/forward.bench.mjs [--out ../../docs/benchmarks/lm-forward.json] [--quick]
// Prefill (one 256-token window, as perplexity runs it) and decode (one token at a
// time through the KV cache, as generation runs it), on the cpu-wasm backend with
// 1 and 2 threads, against the float64 reference backend measured in the same run.
// Needs ../shared (or SPARQ_SHARED) for the model.
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, table, writeJson } from '@sparq/bench';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { createReferenceBackend } from '@sparq/tensor';
import { loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const outPath = outIdx >= 0 ? args[outIdx + 1] : undefined;
const quick = args.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const shared = process.env.SPARQ_SHARED ? resolve(process.env.SPARQ_SHARED) : resolve(here, '..', '..', '..', '..', 'shared');
const modelPath = join(shared, 'models', 'stories260K', 'stories260K.bin');
if (!existsSync(modelPath)) throw new Error(`model not found: ${modelPath} (set SPARQ_SHARED)`);

const PREFILL = 256;
const DECODE = 128;
const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, date: new Date().toISOString() };
console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}`);

const backends = [
  { name: 'reference (f64 oracle)', threads: 1, make: () => createReferenceBackend() },
  ...[...new Set([1, Math.min(2, availableParallelism())])].map((t) => ({
    name: 'cpu-wasm',
    threads: t,
    make: () => createCpuWasmBackend({ threads: t }),
  })),
];

const rows = [];
let baseline;
for (const b of backends) {
  const backend = b.make();
  await backend.init();
  const { model, tokenizer } = await loadModel(modelPath, { backend });
  const ids = tokenizer.encode('Once upon a time, there was a little girl named Lily. '.repeat(40)).slice(0, PREFILL);
  const opts = quick ? { warmup: 1, reps: 2, minTimeMs: 0 } : { warmup: 2, reps: 5, minTimeMs: 1000 };
  const prefill = await measure(() => model.forward(ids, undefined, { lastOnly: true }), opts);
  const decode = await measure(async () => {
    const cache = model.createCache();
    await model.forward([ids[0]], cache, { lastOnly: true });
    for (let t = 1; t < DECODE; t++) await model.forward([ids[t]], cache, { lastOnly: true });
  }, opts);
  const r = { prefillTps: PREFILL / (prefill.median / 1000), decodeTps: DECODE / (decode.median / 1000) };
  baseline ??= r;
  rows.push({
    backend: b.name,
    threads: b.threads,
    'prefill tok/s': r.prefillTps,
    'prefill p90 ms': prefill.p90,
    'decode tok/s': r.decodeTps,
    'decode p90 ms': decode.p90,
    'prefill x ref': r.prefillTps / baseline.prefillTps,
    'decode x ref': r.decodeTps / baseline.decodeTps,
  });
  await model.dispose();
  await backend.dispose();
}
table(rows);
if (outPath) {
  writeJson(resolve(process.cwd(), outPath), { machine, prefillTokens: PREFILL, decodeTokens: DECODE, rows });
  console.log(`wrote ${outPath}`);
}
