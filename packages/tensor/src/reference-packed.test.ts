// The oracle decoders against bytes packed by hand from docs/format.md §1–§6
// (every expected value below is worked out in the comments, not computed by
// the code under test).
import { describe, expect, it } from 'vitest';
import { isSparqError } from './errors';
import { f32ToF16 } from './half';
import type { NMMatrix, NMQuantMatrix, QuantizedMatrix, SpqrMatrix } from './packed';
import { createReferenceBackend } from './reference-kernels';
import {
  decodeNM,
  decodeNMQuant,
  decodeQuantized,
  decodeSpqr,
  matmulPackedRef,
  nmIndexBits,
  packedRowBytes,
  unpackBits,
  validatePacked,
} from './reference-packed';
import { Tensor } from './tensor';

const f16 = (...xs: number[]) => Uint16Array.from(xs.map(f32ToF16));
const u8 = (...xs: number[]) => Uint8Array.from(xs);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSparqError(e) ? e.code : 'not a SparqError';
  }
  return undefined;
}

describe('§1 bit unpacking (LSB-first)', () => {
  it('4-bit: element 2t is the low nibble of byte t', () => {
    expect(Array.from(unpackBits(u8(0x21, 0x43), 0, 4, 4))).toEqual([1, 2, 3, 4]);
  });
  it('2-bit: element 4t+s is bits [2s, 2s+2) of byte t', () => {
    expect(Array.from(unpackBits(u8(0b11_10_01_00), 0, 4, 2))).toEqual([0, 1, 2, 3]);
  });
  it('3-bit: codes straddle bytes', () => {
    // [5, 3, 7, 1, 6]: stream bits 0..14 = 101 110 111 100 011 (each code LSB first)
    // byte 0 = bits 0..7 = 1,0,1,1,1,0,1,1 → 0b11011101; byte 1 = 1,1,0,0,0,1,1,0 → 0b01100011.
    expect(Array.from(unpackBits(u8(0xdd, 0x63), 0, 5, 3))).toEqual([5, 3, 7, 1, 6]);
  });
  it('8-bit and row offsets', () => {
    expect(Array.from(unpackBits(u8(9, 200, 17), 1, 2, 8))).toEqual([200, 17]);
    expect(packedRowBytes(5, 3)).toBe(2);
    expect(packedRowBytes(7, 4)).toBe(4);
    expect([2, 3, 4, 5, 8, 9, 16].map(nmIndexBits)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });
});

describe('§2 group quantization', () => {
  it('decodes 4-bit symmetric (zero-point 8) per group', () => {
    const w: QuantizedMatrix = {
      kind: 'quant',
      rows: 2,
      cols: 4,
      bits: 4,
      groupSize: 2,
      sym: true,
      // row 0 codes [8, 9, 0, 15], row 1 [1, 2, 3, 4]
      codes: u8(0x98, 0xf0, 0x21, 0x43),
      scales: f16(0.5, 0.25, 1, 2),
    };
    // row 0: 0·.5, 1·.5, −8·.25, 7·.25; row 1: −7·1, −6·1, −5·2, −4·2
    expect(Array.from(decodeQuantized(w))).toEqual([0, 0.5, -2, 1.75, -7, -6, -10, -8]);
  });

  it('decodes 2-bit asymmetric with packed zero-points', () => {
    const w: QuantizedMatrix = {
      kind: 'quant',
      rows: 1,
      cols: 4,
      bits: 2,
      groupSize: 2,
      sym: false,
      codes: u8(3 | (0 << 2) | (1 << 4) | (2 << 6)), // [3, 0, 1, 2]
      scales: f16(0.5, 3),
      zeros: u8(1 | (2 << 2)), // [1, 2]
    };
    expect(Array.from(decodeQuantized(w))).toEqual([1, -0.5, -3, 0]);
  });

  it('widens the f16 scale exactly and rounds the product once to f32', () => {
    // f16(0.1) = 0.0999755859375 exactly; 3-bit code 7, sym zero 4: 3 · that, exact in f32.
    const w: QuantizedMatrix = { kind: 'quant', rows: 1, cols: 1, bits: 3, groupSize: 1, sym: true, codes: u8(7), scales: f16(0.1) };
    expect(decodeQuantized(w)[0]).toBe(0.2999267578125);
  });

  it('refuses bad sizes with E_SHAPE_MISMATCH naming the field', () => {
    const base: QuantizedMatrix = { kind: 'quant', rows: 1, cols: 4, bits: 4, groupSize: 3, sym: true, codes: u8(0, 0), scales: f16(1) };
    expect(codeOf(() => validatePacked(base, 'wq'))).toBe('E_SHAPE_MISMATCH');
    expect(() => validatePacked(base, 'wq')).toThrow(/wq: groupSize/);
    expect(() => validatePacked({ ...base, groupSize: 4, codes: u8(0) })).toThrow(/codes length: expected 2, found 1/);
    expect(() => validatePacked({ ...base, groupSize: 4, sym: false })).toThrow(/zeros is missing/);
    expect(() => validatePacked({ ...base, groupSize: 4, bits: 5 as 4 })).toThrow(/bits/);
  });
});

describe('§3 N:M', () => {
  it('scatters 2:4 kept values by 2-bit in-group positions', () => {
    const w: NMMatrix = {
      kind: 'nm',
      rows: 1,
      cols: 8,
      n: 2,
      m: 4,
      values: Float32Array.from([1, 2, 3, 4]),
      indices: u8(0 | (3 << 2) | (1 << 4) | (2 << 6)), // groups [0, 3], [1, 2]
    };
    expect(Array.from(decodeNM(w))).toEqual([1, 0, 0, 2, 0, 3, 4, 0]);
  });

  it('reads 3-bit positions for 4:8', () => {
    // positions [0, 2, 5, 7] → stream 000 010 101 111 → bytes 0b01010000, 0b00001111
    const w: NMMatrix = { kind: 'nm', rows: 1, cols: 8, n: 4, m: 8, values: Float32Array.from([1, 2, 3, 4]), indices: u8(0x50, 0x0f) };
    expect(Array.from(decodeNM(w))).toEqual([1, 0, 2, 0, 0, 3, 0, 4]);
  });

  it('rejects positions that are not strictly increasing', () => {
    const w: NMMatrix = { kind: 'nm', rows: 1, cols: 4, n: 2, m: 4, values: Float32Array.from([1, 2]), indices: u8(1 | (1 << 2)) };
    expect(codeOf(() => decodeNM(w))).toBe('E_ARG');
    expect(codeOf(() => validatePacked({ ...w, cols: 6, values: new Float32Array(3) }))).toBe('E_SHAPE_MISMATCH');
    expect(() => validatePacked({ ...w, n: 4 })).toThrow(/1 ≤ n < m ≤ 16/);
  });
});

describe('§4 N:M + quantized values', () => {
  it('dequantizes over the compressed row with groups in original columns, then scatters', () => {
    const w: NMQuantMatrix = {
      kind: 'nm-quant',
      rows: 1,
      cols: 8,
      n: 2,
      m: 4,
      bits: 4,
      groupSize: 4, // = 2 compressed slots per group
      sym: false,
      codes: u8(0x53, 0x0a), // slots [3, 5, 10, 0]
      scales: f16(0.5, 0.25),
      zeros: u8(0x42), // [2, 4]
      indices: u8(0 | (3 << 2) | (1 << 4) | (2 << 6)),
    };
    // slot 0: (3−2)·.5 → col 0; slot 1: (5−2)·.5 → col 3; slot 2: (10−4)·.25 → col 5; slot 3: (0−4)·.25 → col 6
    expect(Array.from(decodeNMQuant(w))).toEqual([0.5, 0, 0, 1.5, 0, 1.5, -1, 0]);
    expect(() => validatePacked({ ...w, groupSize: 2 })).toThrow(/multiple of m = 4/);
  });
});

describe('§5 + §6 SpQR', () => {
  const spqr: SpqrMatrix = {
    kind: 'spqr',
    rows: 2,
    cols: 4,
    bits: 2,
    groupSize: 2,
    codes: u8(228, 79), // row 0 [0, 1, 2, 3], row 1 [3, 3, 0, 1]
    // first-level scales: row 0 [.5·(3−1), 1·(2−.5)] = [1, 1.5]; row 1 [.5·(2−1), 1·(1−.5)] = [.5, .5]
    scales: { bits: 2, groupRows: 2, codes: u8(3 | (2 << 2), 2 | (1 << 2)), scale: f16(0.5, 1), zero: f16(1, 0.5) },
    // first-level zeros: row 0 [1·(1−0), 1·(2−.5)] = [1, 1.5]; row 1 [2, 2.5]
    zeros: { bits: 2, groupRows: 2, codes: u8(1 | (2 << 2), 2 | (3 << 2)), scale: f16(1, 1), zero: f16(0, 0.5) },
    outliers: { rowPtr: Uint32Array.from([0, 1, 3]), cols: Uint16Array.from([2, 0, 3]), values: f16(10, -3, 0.125) },
  };

  it('decodes bilevel statistics, the base, and overwrites outliers', () => {
    // base row 0: (0−1)·1, (1−1)·1, (2−1.5)·1.5, (3−1.5)·1.5 = [−1, 0, .75, 2.25] → col 2 := 10
    // base row 1: (3−2)·.5, (3−2)·.5, (0−2.5)·.5, (1−2.5)·.5 = [.5, .5, −1.25, −.75] → cols 0, 3 := −3, .125
    expect(Array.from(decodeSpqr(spqr))).toEqual([-1, 0, 10, 2.25, -3, 0.5, -1.25, 0.125]);
  });

  it('rejects out-of-range or unordered outlier columns and bad CSR sizes', () => {
    expect(codeOf(() => decodeSpqr({ ...spqr, outliers: { ...spqr.outliers, cols: Uint16Array.from([2, 3, 0]) } }))).toBe('E_ARG');
    expect(codeOf(() => decodeSpqr({ ...spqr, outliers: { ...spqr.outliers, cols: Uint16Array.from([4, 0, 3]) } }))).toBe('E_ARG');
    expect(codeOf(() => validatePacked({ ...spqr, outliers: { ...spqr.outliers, values: f16(1) } }))).toBe('E_SHAPE_MISMATCH');
  });

  it('the reference backend runs matmulSpqr as decode-then-float64 product', async () => {
    const a = Tensor.f32([1, 4], [1, 2, 3, 4]);
    const out = await createReferenceBackend().run('matmulSpqr', { a, w: spqr }, {});
    // row 0: −1 + 0 + 30 + 9 = 38; row 1: −3 + 1 − 3.75 + .5 = −5.25
    expect(Array.from(out.data)).toEqual([38, -5.25]);
  });
});

describe('compressed reference kernels', () => {
  it('matmulPackedRef is a · decode(w)ᵀ and checks k', async () => {
    const w: NMMatrix = { kind: 'nm', rows: 1, cols: 8, n: 2, m: 4, values: Float32Array.from([1, 2, 3, 4]), indices: u8(156) };
    const a = Tensor.f32([2, 8], [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    // decoded row [1, 0, 0, 2, 0, 3, 4, 0]
    expect(Array.from(matmulPackedRef(a, w).data)).toEqual([10, 1 + 8 + 18 + 28]);
    const be = createReferenceBackend();
    expect(Array.from((await be.run('matmulNM', { a, w }, {})).data)).toEqual([10, 55]);
    expect(codeOf(() => matmulPackedRef(Tensor.f32([1, 4], [1, 2, 3, 4]), w))).toBe('E_SHAPE_MISMATCH');
  });
});
