import { createRng, isSparqError, type PackedBits } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { decodeQuantized, encodeQuantized } from './quant-codec';
import { refF16, refGetCode, sameF32 } from './test-reference';

/** §2 reference dequantization, read straight off the packed bytes. */
function refDequant(m: ReturnType<typeof encodeQuantized>): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  const G = m.cols / m.groupSize;
  const rb = Math.ceil((m.cols * m.bits) / 8);
  const zb = Math.ceil((G * m.bits) / 8);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const g = Math.floor(c / m.groupSize);
      const q = refGetCode(m.codes, r * rb, c, m.bits);
      const z = m.sym ? 2 ** (m.bits - 1) : refGetCode(m.zeros!, r * zb, g, m.bits);
      out[r * m.cols + c] = Math.fround(refF16(m.scales[r * G + g]!) * (q - z));
    }
  }
  return out;
}

describe('group quantization codec (§2)', () => {
  it('decode(encode) equals the reference dequantization for every bits × group × sym', () => {
    const rng = createRng(7);
    for (const bits of [2, 3, 4, 8] as PackedBits[]) {
      for (const sym of [true, false]) {
        const shapes: [number, number, number][] = [[1, 8, 8], [3, 16, 4], [5, 24, 8], [7, 12, 12], [2, 64, 16], [1, 2, 1]];
        for (let i = 0; i < 10; i++) {
          const gs = [1, 2, 3, 5, 7, 8, 16][rng.int(7)]!;
          shapes.push([1 + rng.int(9), gs * (1 + rng.int(4)), gs]);
        }
        for (const [rows, cols, gs] of shapes) {
          const G = cols / gs;
          const codes = new Uint8Array(rows * cols).map(() => rng.int(1 << bits));
          const scales = new Float64Array(rows * G).map(() => (rng.float() - 0.3) * 0.1);
          const zeros = sym ? undefined : new Float64Array(rows * G).map(() => rng.int(1 << bits));
          const m = encodeQuantized({ rows, cols, bits, groupSize: gs, sym, codes, scales, ...(zeros ? { zeros } : {}) });
          expect(m.codes.length).toBe(rows * Math.ceil((cols * bits) / 8));
          const dec = decodeQuantized(m);
          expect(sameF32(dec, refDequant(m))).toBe(true);
          // Scales were narrowed to the nearest f16: within half an f16 ulp (relative 2^-11).
          for (let i = 0; i < scales.length; i++) {
            expect(Math.abs(refF16(m.scales[i]!) - scales[i]!)).toBeLessThanOrEqual(Math.abs(scales[i]!) * 2 ** -11 + 2 ** -25);
          }
        }
      }
    }
  });

  it('golden bytes: 2×8, 4-bit, g8, asymmetric (docs/format.md §7 example A)', () => {
    const m = encodeQuantized({
      rows: 2, cols: 8, bits: 4, groupSize: 8, sym: false,
      codes: [0, 1, 2, 3, 4, 5, 6, 7, 15, 14, 13, 12, 11, 10, 9, 8],
      scales: Float32Array.of(0.5, 0.25),
      zeros: [3, 8],
    });
    expect(Array.from(m.codes)).toEqual([0x10, 0x32, 0x54, 0x76, 0xef, 0xcd, 0xab, 0x89]);
    expect(Array.from(m.scales)).toEqual([0x3800, 0x3400]);
    expect(Array.from(m.zeros!)).toEqual([0x03, 0x08]);
    expect(Array.from(decodeQuantized(m))).toEqual([-1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 1.75, 1.5, 1.25, 1, 0.75, 0.5, 0.25, 0]);
  });

  it('rejects bad shapes and parameters', () => {
    const base = { rows: 2, cols: 8, bits: 4 as PackedBits, sym: false, codes: new Uint8Array(16), scales: new Float32Array(2), zeros: [0, 0] };
    const code = (f: () => unknown): string | undefined => {
      try { f(); } catch (e) { return isSparqError(e) ? e.code : 'other'; }
      return undefined;
    };
    expect(code(() => encodeQuantized({ ...base, groupSize: 3 }))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => encodeQuantized({ ...base, groupSize: 8, zeros: undefined }))).toBe('E_ARG');
    expect(code(() => encodeQuantized({ ...base, groupSize: 8, zeros: [0, 16] }))).toBe('E_ARG');
    expect(code(() => encodeQuantized({ ...base, groupSize: 8, zeros: [0.5, 1] }))).toBe('E_ARG');
    expect(code(() => encodeQuantized({ ...base, groupSize: 8, sym: true, zeros: [8, 7] }))).toBe('E_ARG');
    expect(code(() => encodeQuantized({ ...base, groupSize: 4 }))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => encodeQuantized({ ...base, groupSize: 8, bits: 5 as PackedBits }))).toBe('E_ARG');
  });
});
