// Synthetic weight material shared by the benchmarks (compressed, peers, llama7b-memory): the
// timings only need valid, random-looking codes, scales and 2:4 positions, made fast and
// deterministically (xorshift32 — far faster than the seeded RNG of @sparq/tensor at GB sizes).
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
  // 3-bit has no SIMD kernel: rows are decoded exactly to f32, then the dense kernels run (reported, not a target).
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
