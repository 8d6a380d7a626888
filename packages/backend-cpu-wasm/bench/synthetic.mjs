// Synthetic weight material shared by the benchmarks (compressed, peers, llama7b-memory): the
// timings only need valid, random-looking codes, scales and 2:4 positions, made fast and
// deterministically (xorshift32 — far faster than the seeded RNG of @sparq/tensor at GB sizes).
import { packBits } from '@sparq/format';
import { f32ArrayToBf16, f32ArrayToF16, f32ToF16, Tensor } from '@sparq/tensor';

let seed = 0x9e3779b9;

/** Restarts the byte stream (each benchmark process starts from the same default seed). */
export function reseed(s) {
  seed = s >>> 0 || 1;
}

/** `len` pseudo-random bytes. */
export function randomBytes(len) {
  const u32 = new Uint32Array(Math.ceil(len / 4));
  for (let i = 0; i < u32.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    u32[i] = seed >>> 0;
  }
  return new Uint8Array(u32.buffer, 0, len);
}

/** `len` f32 values uniform in [lo, hi). */
export function uniform(len, lo, hi) {
  const b = randomBytes(len * 4);
  const u = new Uint32Array(b.buffer, 0, len);
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) out[i] = lo + ((u[i] >>> 8) / 16777216) * (hi - lo);
  return out;
}

/** 2:4 index bytes (docs/format.md §3): two groups per byte, each one of the 6 increasing position pairs. */
const PAIRS = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]].map(([a, b]) => a | (b << 2));
export function indices24(len) {
  const r = randomBytes(len);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = PAIRS[r[i] % 6] | (PAIRS[(r[i] >> 3) % 6] << 4);
  return out;
}

/** The 70 increasing 4-of-8 position sets, one per entry as 4 bytes. */
const SETS48 = [];
for (let b = 0; b < 256; b++) {
  if (b.toString(2).replace(/0/g, '').length !== 4) continue;
  const set = [];
  for (let p = 0; p < 8; p++) if (b & (1 << p)) set.push(p);
  SETS48.push(set);
}

/** 4:8 index codes (docs/format.md §3: 3-bit positions packed per §1) of an [n, k] weight. */
export function indices48(n, k) {
  const kept = k / 2;
  const r = randomBytes((n * k) / 8);
  const slots = new Uint8Array(n * kept);
  for (let g = 0; g < r.length; g++) slots.set(SETS48[r[g] % 70], 4 * g);
  return packBits(slots, n, kept, 3);
}

/** 1:4 index codes (§3: 2-bit positions, one per 4 columns) of an [n, k] weight. */
export function indices14(n, k) {
  const r = randomBytes((n * k) / 4);
  return packBits(r.map((b) => b & 3), n, k / 4, 2);
}

/** A random SpQR weight [n, k]: 3-bit codes, groups of 16, bilevel 3-bit statistics over 16 rows, ~1 % outliers per row. */
function spqr3(n, k) {
  const G = k / 16;
  const RG = Math.ceil(n / 16);
  const stat = (lo, hi) => ({
    bits: 3,
    groupRows: 16,
    codes: randomBytes(Math.ceil((G * 3) / 8) * n),
    scale: Uint16Array.from(uniform(RG * G, lo, hi), f32ToF16),
    zero: Uint16Array.from(uniform(RG * G, -1, 0), f32ToF16),
  });
  const per = Math.round(k / 100);
  const rowPtr = Uint32Array.from({ length: n + 1 }, (_, r) => r * per);
  const cols = new Uint16Array(n * per);
  const stride = Math.floor(k / per); // increasing columns below k
  for (let r = 0; r < n; r++) for (let i = 0; i < per; i++) cols[r * per + i] = i * stride + (r % stride);
  return {
    kind: 'spqr', rows: n, cols: k, bits: 3, groupSize: 16,
    codes: randomBytes((n * k * 3) / 8),
    scales: stat(0.06, 0.08),
    zeros: stat(0.8, 1),
    outliers: { rowPtr, cols, values: Uint16Array.from(uniform(n * per, -3, 3), f32ToF16) },
  };
}

/** `len` f16 group scales in [0.005, 0.02). */
export const f16Scales = (len) => Uint16Array.from(uniform(len, 0.005, 0.02), f32ToF16);

/**
 * The benchmarked formats with group size `G`: the kernel each runs on, a maker of a random [n, k] weight, and its
 * size in the sparq format (docs/format.md §2–§4; the uploaded forms stream a little more). `only` limits a format
 * to some cases. Shared by compressed.bench.mjs and ab-builds.mjs.
 */
export function benchFormats(G) {
  return {
  dense: {
    kernel: 'matmulDense',
    make: (n, k) => new Tensor('f32', [n, k], uniform(n * k, -1, 1)),
    bytes: (n, k) => 4 * n * k,
  },
  int4: {
    kernel: 'matmulQuant',
    make: (n, k) => ({
      kind: 'quant', rows: n, cols: k, bits: 4, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 2), scales: f16Scales((n * k) / G), zeros: randomBytes((n * k) / G / 2),
    }),
    bytes: (n, k) => n * k * 0.5 + (n * k / G) * 2.5, // §2: 4-bit codes, f16 scales, 4-bit zeros
  },
  // INT8 group-wise (asymmetric): the Q8 integer GEMV (int8 activations), the exact decode GEMM.
  int8: {
    kernel: 'matmulQuant',
    make: (n, k) => ({
      kind: 'quant', rows: n, cols: k, bits: 8, groupSize: G, sym: false,
      codes: randomBytes(n * k), scales: f16Scales((n * k) / G), zeros: randomBytes((n * k) / G),
    }),
    bytes: (n, k) => n * k + (n * k / G) * 3, // §2: 8-bit codes, f16 scales, 8-bit zeros
  },
  '2:4': {
    kernel: 'matmulNM',
    make: (n, k) => ({ kind: 'nm', rows: n, cols: k, n: 2, m: 4, values: uniform((n * k) / 2, -1, 1), indices: indices24(n * k / 8) }),
    bytes: (n, k) => n * k * 2 + n * k / 8, // §3: f32 kept values, 2-bit positions
  },
  '2:4+int4': {
    kernel: 'matmulNMQuant',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 2, m: 4, bits: 4, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 4), scales: f16Scales((n * k) / G), zeros: randomBytes((n * k) / G / 2), indices: indices24(n * k / 8),
    }),
    bytes: (n, k) => n * k / 4 + n * k / 8 + (n * k / G) * 2.5, // §4
  },
  // 2:4 + INT8 (SparseGPT 2:4 with 8-bit weights, as llm-compressor's 2:4 W8 recipes).
  '2:4+int8': {
    kernel: 'matmulNMQuant',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 2, m: 4, bits: 8, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 2), scales: f16Scales((n * k) / G), zeros: randomBytes((n * k) / G), indices: indices24(n * k / 8),
    }),
    bytes: (n, k) => n * k / 2 + n * k / 8 + (n * k / G) * 3, // §4: 8-bit codes, 2-bit positions, f16 scales, 8-bit zeros
  },
  // 4:8 (the same density as 2:4, a wider choice of kept positions).
  '4:8': {
    kernel: 'matmulNM',
    make: (n, k) => ({ kind: 'nm', rows: n, cols: k, n: 4, m: 8, values: uniform((n * k) / 2, -1, 1), indices: indices48(n, k) }),
    bytes: (n, k) => n * k * 2 + (n * k * 3) / 16, // §3: f32 kept values, 3-bit positions
  },
  '4:8+int4': {
    kernel: 'matmulNMQuant',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 4, m: 8, bits: 4, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 4), scales: f16Scales((n * k) / G), zeros: randomBytes((n * k) / G / 2), indices: indices48(n, k),
    }),
    bytes: (n, k) => n * k / 4 + (n * k * 3) / 16 + (n * k / G) * 2.5, // §4
  },
  '4:8+int8': {
    kernel: 'matmulNMQuant',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 4, m: 8, bits: 8, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 2), scales: f16Scales((n * k) / G), zeros: randomBytes((n * k) / G), indices: indices48(n, k),
    }),
    bytes: (n, k) => n * k / 2 + (n * k * 3) / 16 + (n * k / G) * 3, // §4
  },
  // 1:4 (the planner's sparsest N:M rung): the column-byte gather GEMV (f32) and the chunked N:M + 4-bit GEMV.
  '1:4': {
    kernel: 'matmulNM',
    only: (s) => s.name === '4096x4096',
    make: (n, k) => ({ kind: 'nm', rows: n, cols: k, n: 1, m: 4, values: uniform(n * k / 4, -1, 1), indices: indices14(n, k) }),
    bytes: (n, k) => n * k + n * k / 16, // §3: f32 kept values, 2-bit positions
  },
  '1:4+int4': {
    kernel: 'matmulNMQuant',
    only: (s) => s.name === '4096x4096',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 1, m: 4, bits: 4, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 8), scales: f16Scales((n * k) / G), zeros: randomBytes((n * k) / G / 2), indices: indices14(n, k),
    }),
    bytes: (n, k) => n * k / 8 + n * k / 16 + (n * k / G) * 2.5, // §4
  },
  // 4:8 + 3-bit (codes held as nibbles, the chunked N:M + 4-bit GEMV), GEMV at 4096² only.
  '4:8+int3': {
    kernel: 'matmulNMQuant',
    only: (s, m) => m === 1 && s.name === '4096x4096',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 4, m: 8, bits: 3, groupSize: G, sym: false,
      codes: randomBytes((n * k * 3) / 16), scales: f16Scales((n * k) / G), zeros: randomBytes(Math.ceil(((k / G) * 3) / 8) * n), indices: indices48(n, k),
    }),
    bytes: (n, k) => (n * k * 3) / 16 + (n * k * 3) / 16 + (n * k / G) * (2 + 3 / 8), // §4: 3-bit codes, 3-bit positions
  },
  // SpQR (§5–§6): 3-bit base in groups of 16, bilevel 3-bit statistics over 16 rows, ~1 % f16 outliers; the GEMV
  // runs the 4-bit int8-activation kernel with the outliers added per row (GEMV and batches up to 32).
  spqr3: {
    kernel: 'matmulSpqr',
    only: (s, m) => m <= 32,
    make: (n, k) => spqr3(n, k),
    bytes: (n, k) => (n * k * 3) / 8 + 2 * ((n * k) / 16) * (3 / 8) + 0.01 * n * k * 4, // codes, stat codes, outliers (≈)
  },
  // Dense weights stored in half precision (a half-precision checkpoint's), widened exactly in the kernel.
  f16: {
    kernel: 'matmulDense',
    make: (n, k) => new Tensor('f16', [n, k], f32ArrayToF16(uniform(n * k, -1, 1))),
    bytes: (n, k) => 2 * n * k,
  },
  bf16: {
    kernel: 'matmulDense',
    make: (n, k) => new Tensor('bf16', [n, k], f32ArrayToBf16(uniform(n * k, -1, 1))),
    bytes: (n, k) => 2 * n * k,
  },
  // INT2 (codes held as nibbles, the INT4 GEMV), GEMV at 4096² only: the planner's bits ladders (`sparq plan --cost cpu`).
  int2: {
    kernel: 'matmulQuant',
    only: (s, m) => m === 1 && s.name === '4096x4096',
    make: (n, k) => ({
      kind: 'quant', rows: n, cols: k, bits: 2, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 4), scales: f16Scales((n * k) / G), zeros: randomBytes(Math.ceil(((k / G) * 2) / 8) * n),
    }),
    bytes: (n, k) => (n * k) / 4 + (n * k / G) * (2 + 2 / 8),
  },
  // 3-bit: codes held as 4-bit nibbles in wasm memory, so the INT4 kernels run them (reported, not a target).
  int3: {
    kernel: 'matmulQuant',
    only: (s, m) => m === 1 && s.name === '4096x4096',
    make: (n, k) => ({
      kind: 'quant', rows: n, cols: k, bits: 3, groupSize: G, sym: false,
      codes: randomBytes((n * k * 3) / 8), scales: f16Scales((n * k) / G), zeros: randomBytes(Math.ceil(((k / G) * 3) / 8) * n),
    }),
    bytes: (n, k) => (n * k * 3) / 8 + (n * k / G) * (2 + 3 / 8),
  },
};
}
