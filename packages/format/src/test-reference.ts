/**
 * Test-only independent reference of the format rules (not exported from the
 * package): written straight from docs/format.md with the simplest possible
 * code — one bit at a time, f16 decoded by its textbook formula — and sharing
 * nothing with the codecs under test.
 */

/** Value of an f16 bit pattern: (−1)^s · 2^(e−15) · 1.m, subnormals 2^−14 · 0.m. */
export function refF16(h: number): number {
  const s = h >> 15 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Code `i` of a §1-packed row starting at byte `start`: gathers stream bits one by one. */
export function refGetCode(bytes: Uint8Array, start: number, i: number, b: number): number {
  let q = 0;
  for (let j = 0; j < b; j++) {
    const k = i * b + j;
    const bit = (bytes[start + Math.floor(k / 8)]! >> (k % 8)) & 1;
    q += bit * 2 ** j;
  }
  return q;
}

/** Packs rows of codes bit by bit per §1. */
export function refPack(codes: ArrayLike<number>, rows: number, count: number, b: number): Uint8Array {
  const rowBytes = Math.ceil((count * b) / 8);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < b; j++) {
        if ((codes[r * count + i]! >> j) & 1) {
          const k = i * b + j;
          out[r * rowBytes + Math.floor(k / 8)]! |= 1 << (k % 8);
        }
      }
    }
  }
  return out;
}

/** Bit-exact equality of two f32 arrays (NaN-safe, distinguishes ±0). */
export function sameF32(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}
