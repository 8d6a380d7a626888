/**
 * Exact conversions between f32 and the two 16-bit float formats.
 *
 * Narrowing (f32 → f16/bf16) rounds to nearest, ties to even, produces
 * subnormals and signed zeros, overflows to ±Inf and keeps NaN a (quiet) NaN.
 * Widening is exact. All work happens on bit patterns, so results do not depend
 * on the host's float rounding mode.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Widens an f16 bit pattern to the f32 value it encodes (exact, NaN payload kept). */
export function f16ToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) {
    // Zero or subnormal: mant · 2^-24, exact in f32.
    const v = mant * 5.960464477539063e-8;
    return sign ? -v : v;
  }
  if (exp === 31) {
    u32[0] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    return f32[0]!;
  }
  u32[0] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  return f32[0]!;
}

/** Narrows a number to the nearest f16 bit pattern (round to nearest, ties to even). */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 255) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // re-biased exponent for f16 (127 - 15)
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal f16 (or zero): mantissa = round(m / 2^(126 - exp)).
    const shift = 126 - exp;
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (q & 1) === 1)) q++;
    return sign | q;
  }
  let q = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches Inf at the top).
  if (rem > 0x1000 || (rem === 0x1000 && (q & 1) === 1)) q++;
  return sign | q;
}

/** Widens a bf16 bit pattern to f32 (exact: bf16 is the top half of an f32). */
export function bf16ToF32(b: number): number {
  u32[0] = (b << 16) >>> 0;
  return f32[0]!;
}

/** Narrows a number to the nearest bf16 bit pattern (round to nearest, ties to even). */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

let f16Table: Float32Array | undefined;

/** Widens a whole f16 array to f32 (table-driven). */
export function f16ArrayToF32(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
  }
  const t = f16Table;
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]!]!;
  return dst;
}

/** Widens a whole bf16 array to f32. */
export function bf16ArrayToF32(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
  return dst;
}

/** Narrows an f32 array to f16 bit patterns. */
export function f32ArrayToF16(src: ArrayLike<number>, dst = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16(src[i]!);
  return dst;
}

/** Narrows an f32 array to bf16 bit patterns. */
export function f32ArrayToBf16(src: ArrayLike<number>, dst = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = f32ToBf16(src[i]!);
  return dst;
}
