// Synthetic weight material shared by the benchmarks (compressed, peers, llama7b-memory): the
// timings only need valid, random-looking codes, scales and 2:4 positions, made fast and
// deterministically (xorshift32 — far faster than the seeded RNG of @sparq/tensor at GB sizes).
import { f32ToF16 } from '@sparq/tensor';

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
