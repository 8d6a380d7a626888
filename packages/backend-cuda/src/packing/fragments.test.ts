// Fragment layouts: packing followed by an emulation of exactly what each
// lane of the tensor-core kernels loads must give back the original matrix,
// and for INT4 weights the dequantized emulation must equal the reference
// decoder of @sparq/tensor bit for bit.
import { randomQuantized } from '@sparq/conformance';
import { createRng, decodeQuantized, f16ToF32, f32ToF16 } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { emulateF16FragmentReads, emulateInt4FragmentReads, fragmentElement, fragmentOffset, packF16Fragments, packInt4Fragments, roundUp } from './fragments';
import { groupStatsF16 } from './group-stats';
import { packInt4 } from './int4';

const rng = createRng(7);

describe('f16 fragment layout', () => {
  it('fragmentElement follows the PTX m16n8k16 A-fragment table', () => {
    // Spot values from the ISA table: lane 0 reg 0 = (0, 0..1); lane 5 (g 1, t 1) reg 3 h 1 = (9, 11).
    expect(fragmentElement(0, 0, 0)).toEqual({ row: 0, col: 0 });
    expect(fragmentElement(0, 0, 1)).toEqual({ row: 0, col: 1 });
    expect(fragmentElement(5, 3, 1)).toEqual({ row: 9, col: 11 });
    expect(fragmentElement(31, 2, 0)).toEqual({ row: 7, col: 14 });
    // Every (lane, reg, h) covers a distinct element of the 16×16 tile.
    const seen = new Set<number>();
    for (let lane = 0; lane < 32; lane++) for (let reg = 0; reg < 4; reg++) for (let h = 0; h < 2; h++) {
      const { row, col } = fragmentElement(lane, reg, h);
      seen.add(row * 16 + col);
    }
    expect(seen.size).toBe(256);
  });

  it('fragmentOffset is a bijection onto [0, nPad·kPad)', () => {
    const nPad = 48;
    const kPad = 64;
    const seen = new Uint8Array(nPad * kPad);
    for (let r = 0; r < nPad; r++) for (let c = 0; c < kPad; c++) seen[fragmentOffset(r, c, kPad)]!++;
    expect(seen.every((v) => v === 1)).toBe(true);
  });

  it('pack → emulated lane reads gives back the matrix, zero-padded (odd shapes)', () => {
    for (const [rows, cols] of [
      [1, 1],
      [5, 7],
      [16, 16],
      [37, 100],
      [64, 96],
    ] as const) {
      const nPad = roundUp(rows, 16);
      const kPad = roundUp(cols, 32);
      const bits = Uint16Array.from({ length: rows * cols }, () => f32ToF16(rng.normal()));
      const dense = emulateF16FragmentReads(packF16Fragments(bits, rows, cols, nPad, kPad), nPad, kPad);
      for (let r = 0; r < nPad; r++) {
        for (let c = 0; c < kPad; c++) {
          const want = r < rows && c < cols ? bits[r * cols + c]! : 0;
          if (dense[r * kPad + c] !== want) expect.fail(`[${rows}, ${cols}]: element (${r}, ${c}) = ${dense[r * kPad + c]}, expected ${want}`);
        }
      }
    }
  });

  it('rejects a padded shape that is not a multiple of 16', () => {
    expect(() => packF16Fragments(new Uint16Array(4), 2, 2, 8, 16)).toThrow(/multiples of 16/);
  });
});

describe('INT4 fragment layout', () => {
  it('pack → emulated nibble extraction ((word >> 4·reg) & 0x000f000f) gives back every code', () => {
    const rows = 40;
    const cols = 80;
    const codes = Uint8Array.from({ length: rows * cols }, () => rng.int(16));
    const nPad = 48;
    const kPad = 96;
    const got = emulateInt4FragmentReads(packInt4Fragments(codes, rows, cols, nPad, kPad), nPad, kPad);
    for (let r = 0; r < nPad; r++) {
      for (let c = 0; c < kPad; c++) {
        const want = r < rows && c < cols ? codes[r * cols + c]! : 0;
        if (got[r * kPad + c] !== want) expect.fail(`code (${r}, ${c}) = ${got[r * kPad + c]}, expected ${want}`);
      }
    }
  });

  it('packInt4 + groupStatsF16, read as int4_mma.cu does, dequantize to decodeQuantized exactly', () => {
    for (const [rows, cols, g, sym] of [
      [37, 256, 128, false],
      [16, 96, 32, true],
      [5, 48, 16, false],
      [33, 640, 32, true],
    ] as const) {
      const w = randomQuantized(rng, rows, cols, 4, g, sym);
      const p = packInt4(w);
      const groups = cols / g;
      const st = groupStatsF16(rows, p.nPad, groups, 4, w.scales, w.zeros, sym);
      const codes = emulateInt4FragmentReads(p.codes, p.nPad, p.kPad);
      const ref = decodeQuantized(w);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          // int4_mma.cu: group = min(k/groupSize, groups−1), value = scale·((1024 + q) − (1024 + zero)).
          const t = r * groups + Math.min(Math.floor(c / g), groups - 1);
          const v = Math.fround(f16ToF32(st.scales[t]!) * (codes[r * p.kPad + c]! - f16ToF32(st.zeros[t]!)));
          if (v !== ref[r * cols + c]) expect.fail(`[${rows}, ${cols}] g${g}: (${r}, ${c}) = ${v}, reference ${ref[r * cols + c]}`);
        }
      }
    }
  });

  it('packInt4 refuses other widths', () => {
    expect(() => packInt4(randomQuantized(rng, 4, 32, 8, 32, true))).toThrow(/bits must be 4/);
  });
});
