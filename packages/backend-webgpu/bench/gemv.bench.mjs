// GEMV bandwidth benchmark of the WebGPU backend in Node + Dawn (run after `pnpm build`):
//   node bench/gemv.bench.mjs [--shape 16384x16384] [--repeat 50] [--trials 5] [--out ../../docs/benchmarks/webgpu.json]
//   node bench/gemv.bench.mjs --check --shape 64x256   # no GPU needed: validates the generated weights with the reference decoders
// For one weight shape (n output rows × k columns; default 16384 × 16384 so
// even the INT4 weight, 128 MiB + stats, exceeds any GPU's L2 and streams from
// memory) it times a batch-1 GEMV of each format: dense f16 (the baseline,
// `denseWeights: 'f16'`, measured in the same run), INT8 / INT4 / INT3 g128
// asymmetric, 2:4 f32, 2:4 + INT4 g128. `backend.profile()` runs `repeat`
// GEMVs back to back in one submission, so per-call latency (activation
// upload, readback) is amortised. Reported per format: µs per GEMV, weight GB/s
// (the sparq-format bytes of docs/format.md §2–§4 per GEMV / time), the fraction
// of the device's measured copy bandwidth (a same-run probe: copyBufferToBuffer
// of 1 GiB, read + write bytes), the speed-up over dense f16, and 2:4 + INT4 vs INT4.
// Without a WebGPU adapter (no GPU, as on the machine that built this) it
// prints why and exits 0: nothing is measured.
// Self-contained (no @sparq/bench import: that workspace tool is not a
// dependency of this package); statistics are min and median of `--trials`.
import { writeFileSync } from 'node:fs';
import { Tensor, decodePacked, f32ToF16 } from '@sparq/tensor';
import { create, globals } from 'webgpu';
import { createWebGpuBackend } from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const [N, K] = arg('shape', '16384x16384').split('x').map(Number);
const REPEAT = Number(arg('repeat', '50'));
const TRIALS = Number(arg('trials', '5'));
const OUT = arg('out', undefined);
const G = 128;

// --- same-run probe: device copy bandwidth (read + write) ---
async function copyBandwidth() {
  const bytes = Math.min(1 << 30, Math.floor(device.limits.maxBufferSize / 4) * 4);
  const src = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_SRC });
  const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST });
  const times = [];
  for (let t = 0; t < TRIALS + 1; t++) {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < 10; i++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
    const cmd = enc.finish();
    const t0 = performance.now();
    device.queue.submit([cmd]);
    await device.queue.onSubmittedWorkDone();
    if (t > 0) times.push((performance.now() - t0) / 1000);
  }
  src.destroy();
  dst.destroy();
  return (2 * 10 * bytes) / Math.min(...times) / 1e9;
}

// --- random but valid weights (xorshift32 bytes) ---
let seed = 0x9e3779b9;
function randomBytes(len) {
  const u32 = new Uint32Array(Math.ceil(len / 4));
  for (let i = 0; i < u32.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    u32[i] = seed >>> 0;
  }
  return new Uint8Array(u32.buffer, 0, len);
}
const rowBytes = (count, bits) => Math.ceil((count * bits) / 8);
const scales = (count) => Uint16Array.from({ length: count }, (_, i) => f32ToF16(0.01 + (i % 7) * 1e-3));
/** 2:4 index bytes: each 4-bit nibble is one group's increasing position pair. */
const PAIRS = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]].map(([a, b]) => a | (b << 2));
function indices24(rows, cols) {
  const out = randomBytes(rows * rowBytes(cols / 2, 2));
  for (let i = 0; i < out.length; i++) out[i] = PAIRS[out[i] % 6] | (PAIRS[(out[i] >> 4) % 6] << 4);
  return out;
}
function quant(bits) {
  return { kind: 'quant', rows: N, cols: K, bits, groupSize: G, sym: false, codes: randomBytes(N * rowBytes(K, bits)), scales: scales((N * K) / G), zeros: randomBytes(N * rowBytes(K / G, bits)) };
}
const formatBytes = (w) =>
  w.kind === 'dense-f16' ? N * K * 2 : (w.codes?.byteLength ?? 0) + (w.scales?.byteLength ?? 0) + (w.zeros?.byteLength ?? 0) + (w.values?.byteLength ?? 0) + (w.indices?.byteLength ?? 0);

const FORMATS = [
  { name: 'dense f16', kernel: 'matmulDense', make: () => ({ kind: 'dense-f16', b: new Tensor('f32', [N, K], new Float32Array(N * K).fill(0.01)) }) },
  { name: 'INT8 g128', kernel: 'matmulQuant', make: () => quant(8) },
  { name: 'INT4 g128', kernel: 'matmulQuant', make: () => quant(4) },
  { name: 'INT3 g128', kernel: 'matmulQuant', make: () => quant(3) },
  {
    name: '2:4 f32',
    kernel: 'matmulNM',
    make: () => ({ kind: 'nm', rows: N, cols: K, n: 2, m: 4, values: new Float32Array((N * K) / 2).fill(0.01), indices: indices24(N, K) }),
  },
  {
    name: '2:4 + INT4 g128',
    kernel: 'matmulNMQuant',
    make: () => ({
      kind: 'nm-quant', rows: N, cols: K, n: 2, m: 4, bits: 4, groupSize: G, sym: false,
      codes: randomBytes(N * rowBytes(K / 2, 4)), scales: scales((N * K) / G), zeros: randomBytes(N * rowBytes(K / G, 4)), indices: indices24(N, K),
    }),
  },
];

if (args.includes('--check')) {
  // Every generated packed weight must decode (valid sizes, strictly increasing 2:4 positions).
  for (const f of FORMATS.slice(1)) decodePacked(f.make());
  console.log(`gemv.bench --check: the ${FORMATS.length - 1} packed weights of ${N}×${K} decode with the reference decoders`);
  process.exit(0);
}
// GPUBufferUsage and friends are browser globals; Dawn provides them here.
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.log(
    'gemv.bench: skipped — Dawn (the "webgpu" package) found no WebGPU adapter on this machine (no GPU or no usable driver). ' +
      'Nothing was measured. Run on a machine with a GPU and a Vulkan/Metal/D3D12 driver; see docs/benchmarks/webgpu.md.',
  );
  process.exit(0);
}
const device = await adapter.requestDevice({
  requiredLimits: {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  },
});
const info = `${adapter.info?.vendor ?? ''} ${adapter.info?.architecture ?? ''} ${adapter.info?.description ?? ''}`.trim();

const backend = createWebGpuBackend({ device, denseWeights: 'f16' });
await backend.init();
const bw = await copyBandwidth();
const a = new Tensor('f32', [1, K], Float32Array.from({ length: K }, (_, i) => Math.sin(i)));
const rows = [];
for (const f of FORMATS) {
  const w = f.make();
  const inputs = w.kind === 'dense-f16' ? { a, b: w.b } : { a, w };
  const attrs = w.kind === 'dense-f16' ? { transposeB: true } : {};
  const times = [];
  for (let t = 0; t < TRIALS; t++) times.push(await backend.profile(f.kernel, inputs, attrs, REPEAT));
  times.sort((x, y) => x - y);
  const bytes = formatBytes(w);
  rows.push({ format: f.name, bytes, minSeconds: times[0], medianSeconds: times[Math.floor(times.length / 2)], gbps: bytes / times[0] / 1e9 });
  backend.release(w.kind === 'dense-f16' ? w.b : w);
}
const base = rows[0].minSeconds;
const int4 = rows.find((r) => r.format === 'INT4 g128').minSeconds;
console.log(`WebGPU GEMV ${N}×${K}, batch 1, ${REPEAT} per submission, best of ${TRIALS} — adapter: ${info}; copy bandwidth ${bw.toFixed(0)} GB/s`);
console.log('format            MiB     µs/GEMV   GB/s   of copy BW   vs dense f16');
for (const r of rows) {
  console.log(
    `${r.format.padEnd(16)} ${(r.bytes / 2 ** 20).toFixed(0).padStart(6)} ${(r.minSeconds * 1e6).toFixed(1).padStart(10)} ${r.gbps.toFixed(0).padStart(6)} ${((r.gbps / bw) * 100).toFixed(0).padStart(10)} % ${(base / r.minSeconds).toFixed(2).padStart(10)}×`,
  );
}
console.log(`2:4 + INT4 vs INT4: ${(int4 / rows.at(-1).minSeconds).toFixed(2)}× faster`);
if (OUT) writeFileSync(OUT, JSON.stringify({ adapter: info, shape: [N, K], repeat: REPEAT, trials: TRIALS, copyBandwidthGBps: bw, rows }, null, 2) + '\n');
await backend.dispose();
device.destroy();
