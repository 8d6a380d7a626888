import { createRng, isSparqError } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { packBits, packedRowBytes, readPackedCode, unpackBits } from './pack-bits';
import { refGetCode, refPack } from './test-reference';

describe('packBits (§1)', () => {
  it('pins the LSB-first layout for each width', () => {
    // b = 4: element 2t is the low nibble of byte t.
    expect(Array.from(packBits([1, 2, 3], 1, 3, 4))).toEqual([0x21, 0x03]);
    // b = 2: element 4t+s at bits [2s, 2s+2).
    expect(Array.from(packBits([1, 2, 3, 0, 3], 1, 5, 2))).toEqual([0b00111001, 0b11]);
    // b = 3: element 2 straddles bytes 0 and 1 (stream bits 6..8).
    expect(Array.from(packBits([7, 0, 5, 1], 1, 4, 3))).toEqual([0b01000111, 0b00000011]);
    expect(Array.from(packBits([0xab, 1], 1, 2, 8))).toEqual([0xab, 1]);
    // rows start on byte boundaries
    expect(Array.from(packBits([1, 1, 1, 1, 1, 1], 2, 3, 3))).toEqual([0b01001001, 0, 0b01001001, 0]);
  });

  it('round-trips random rows for every width 1..8 and odd shapes', () => {
    const rng = createRng(1);
    for (let b = 1; b <= 8; b++) {
      for (const [rows, count] of [[1, 1], [3, 7], [5, 13], [2, 64], [7, 33], [0, 5], [4, 0]] as const) {
        const codes = new Uint8Array(rows * count);
        for (let i = 0; i < codes.length; i++) codes[i] = rng.int(1 << b);
        const packed = packBits(codes, rows, count, b);
        expect(packed.length).toBe(rows * packedRowBytes(count, b));
        expect(Array.from(packed)).toEqual(Array.from(refPack(codes, rows, count, b)));
        expect(Array.from(unpackBits(packed, rows, count, b))).toEqual(Array.from(codes));
        const rb = packedRowBytes(count, b);
        for (let r = 0; r < rows; r++) {
          for (let i = 0; i < count; i++) {
            expect(readPackedCode(packed, r * rb, i, b)).toBe(codes[r * count + i]);
            expect(refGetCode(packed, r * rb, i, b)).toBe(codes[r * count + i]);
          }
        }
      }
    }
  });

  it('rejects a code that does not fit, naming row and column', () => {
    let err: unknown;
    try {
      packBits([0, 1, 2, 3, 4, 5, 16], 1, 7, 4, 'w.codes');
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_ARG');
    expect((err as Error).message).toContain('row 0, column 6');
    expect(() => packBits([1], 1, 2, 4)).toThrow(/expected 1×2 = 2 codes/);
    expect(() => unpackBits(new Uint8Array(2), 1, 5, 4)).toThrow(/need 3 bytes, found 2/);
    expect(() => packBits([1], 1, 1, 9)).toThrow(/1 to 8/);
  });
});
