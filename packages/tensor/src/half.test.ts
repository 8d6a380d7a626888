import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half';

// Independent decoder of an IEEE binary16 pattern, written from the format
// definition with float64 arithmetic (no bit tricks shared with half.ts).
function decodeF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
function decodeBf16(b: number): number {
  const s = b & 0x8000 ? -1 : 1;
  const e = (b >> 7) & 0xff;
  const m = b & 0x7f;
  if (e === 0) return s * m * 2 ** -133;
  if (e === 255) return m ? NaN : s * Infinity;
  return s * (1 + m / 128) * 2 ** (e - 127);
}

describe.each([
  ['f16', f16ToF32, f32ToF16, decodeF16, 0x7c00],
  ['bf16', bf16ToF32, f32ToBf16, decodeBf16, 0x7f80],
] as const)('%s conversion, exhaustive over all 65,536 patterns', (_name, widen, narrow, decode, infBits) => {
  it('widens every pattern to the value the format defines', () => {
    for (let h = 0; h < 65536; h++) {
      const want = decode(h);
      const got = widen(h);
      if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
      else if (!Object.is(got, want)) expect([h, got]).toEqual([h, want]);
    }
  });

  it('round-trips every non-NaN pattern and keeps NaN a NaN', () => {
    for (let h = 0; h < 65536; h++) {
      const back = narrow(widen(h));
      if (Number.isNaN(decode(h))) expect(Number.isNaN(decode(back))).toBe(true);
      else if (back !== h) expect([h, back]).toEqual([h, h]);
    }
  });

  it('rounds midpoints to even and near-midpoints to nearest, for every adjacent pair', () => {
    const f32 = new Float32Array(3);
    for (let h = 0; h < infBits; h++) {
      for (const sign of [0, 0x8000]) {
        const a = decode(h | sign);
        const b = decode((h + 1) | sign); // next magnitude (h + 1 = inf at the top)
        const mid = Number.isFinite(b) ? (a + b) / 2 : a + (a - decode((h - 1) | sign)) / 2;
        const even = h % 2 === 0 ? h : h + 1;
        expect(narrow(mid)).toBe(even | sign);
        // Just below and above the midpoint (one f32 ulp away) go to the nearer value.
        f32[0] = mid;
        const mid32 = f32[0]!;
        const below = nextAfter32(mid32, 0);
        const above = nextAfter32(mid32, Infinity * (sign ? -1 : 1));
        expect(narrow(below)).toBe(h | sign);
        expect(narrow(above)).toBe((h + 1) | sign);
      }
    }
  });

  it('overflows to infinity and keeps signed zero', () => {
    expect(narrow(Infinity)).toBe(infBits);
    expect(narrow(-Infinity)).toBe(infBits | 0x8000);
    expect(narrow(-0)).toBe(0x8000);
    expect(narrow(0)).toBe(0);
    expect(Number.isNaN(widen(narrow(NaN)))).toBe(true);
  });
});

it('f16 saturates past the largest finite value exactly at the rounding boundary', () => {
  expect(f32ToF16(65504)).toBe(0x7bff);
  expect(f32ToF16(65519.99)).toBe(0x7bff);
  expect(f32ToF16(65520)).toBe(0x7c00);
  expect(f32ToF16(2 ** -25)).toBe(0); // exactly half the smallest subnormal: ties to even (0)
  expect(f32ToF16(2 ** -25 * 1.0000001)).toBe(1);
});

/** The next float32 after `x` towards `dir`. */
function nextAfter32(x: number, dir: number): number {
  const f = new Float32Array([x]);
  const u = new Int32Array(f.buffer);
  if (x === 0) {
    u[0] = dir > 0 ? 1 : -2147483647;
    return f[0]!;
  }
  if ((dir > x) === (x > 0)) u[0]! += 1;
  else u[0]! -= 1;
  return f[0]!;
}
