// 2:4 packing for mma.sp: the CUTLASS-reordered metadata from @sparq/format,
// read per lane as the sparse kernels do and resolved as mma.sp (selector 0)
// resolves it, must put every kept value at its original column — checked
// against the reference decoders (decodeNM, decodeNMQuant) of @sparq/tensor.
import { randomNM, randomNMQuant } from '@sparq/conformance';
import { nvidia2to4LogicalMeta } from '@sparq/format';
import { createRng, decodeNM, decodeNMQuant, f16ToF32, f32ToF16, type NMMatrix } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { emulateF16FragmentReads, emulateInt4FragmentReads } from './fragments';
import { groupStatsF16 } from './group-stats';
import { emulateSparse24, metaWords, mmaSpColumn, packSparse24F16, packSparse24Int4 } from './sparse24';

const rng = createRng(11);

function expectDense(got: Float64Array, kPad: number, ref: Float32Array, rows: number, cols: number, what: string): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < kPad; c++) {
      const want = c < cols ? ref[r * cols + c]! : 0;
      if (got[r * kPad + c] !== want) expect.fail(`${what}: (${r}, ${c}) = ${got[r * kPad + c]}, reference ${want}`);
    }
  }
}

describe('2:4 f16 packing (sparse24_mma.cu)', () => {
  for (const [rows, cols] of [
    [32, 32],
    [37, 64],
    [5, 12],
    [64, 260],
    [96, 1024],
  ] as const) {
    it(`[${rows}, ${cols}]: emulated mma.sp reads reproduce decodeNM (values rounded to f16)`, () => {
      const w = randomNM(rng, rows, cols, 2, 4);
      const p = packSparse24F16(w);
      expect([p.nPad % 32, p.kPad % 32]).toEqual([0, 0]);
      const vals = emulateF16FragmentReads(p.values, p.nPad, p.kPad / 2);
      const dense = emulateSparse24(p, p.meta, (r, cc) => f16ToF32(vals[r * (p.kPad / 2) + cc]!));
      const w16: NMMatrix = { ...w, values: w.values.map((v) => f16ToF32(f32ToF16(v))) };
      expectDense(dense, p.kPad, decodeNM(w16), rows, cols, `[${rows}, ${cols}]`);
    });
  }

  it('the emulation has teeth: the un-reordered (logical) metadata puts values in wrong columns', () => {
    const w = randomNM(rng, 32, 64, 2, 4);
    const p = packSparse24F16(w);
    const vals = emulateF16FragmentReads(p.values, p.nPad, p.kPad / 2);
    const logical = nvidia2to4LogicalMeta(w);
    let mismatch = 0;
    const ref = decodeNM(w);
    try {
      const dense = emulateSparse24(p, logical, (r, cc) => f16ToF32(vals[r * (p.kPad / 2) + cc]!));
      for (let i = 0; i < ref.length; i++) if (Math.abs(dense[i]! - ref[i]!) > 1e-2) mismatch++;
    } catch {
      mismatch = Infinity; // a column selected twice
    }
    expect(mismatch).toBeGreaterThan(0);
  });

  it('mmaSpColumn: lane (g, t) metadata words hold rows g and g+8, t picking the 16-column half', () => {
    // One 32×32 weight whose row r keeps positions chosen so each (row, chunk) is distinguishable.
    const w = randomNM(rng, 32, 32, 2, 4);
    const p = packSparse24F16(w);
    const meta32 = metaWords(p.meta);
    const ref = decodeNM(w);
    for (let rt = 0; rt < 2; rt++) {
      for (let row = 0; row < 16; row++) {
        const r = rt * 16 + row;
        const kept = [...Array(32).keys()].filter((c) => ref[r * 32 + c] !== 0);
        const cols = [...Array(16).keys()].map((cc) => mmaSpColumn(meta32, p.nPad, rt, 0, row, cc));
        // Values are N(0,1) draws, so a kept value is never exactly 0.
        expect(cols).toEqual(kept);
      }
    }
  });

  it('refuses N:M other than 2:4', () => {
    expect(() => packSparse24F16(randomNM(rng, 8, 16, 4, 8))).toThrow(/2:4/);
  });
});

describe('2:4 + INT4 packing (sparse24_int4_mma.cu)', () => {
  for (const [rows, cols, g, sym] of [
    [41, 1024, 128, true],
    [7, 320, 64, false],
    [21, 512, 128, false],
    [32, 96, 32, true],
  ] as const) {
    it(`[${rows}, ${cols}] g${g} ${sym ? 'sym' : 'asym'}: emulated reads + register dequant equal decodeNMQuant exactly`, () => {
      const w = randomNMQuant(rng, rows, cols, 2, 4, 4, g, sym);
      const p = packSparse24Int4(w);
      const groups = cols / g;
      const st = groupStatsF16(rows, p.nPad, groups, 4, w.scales, w.zeros, sym);
      const codes = emulateInt4FragmentReads(p.codes, p.nPad, p.kPad / 2);
      // sparse24_int4_mma.cu: the group of a 32-column block kb is min(32·kb / g, groups − 1).
      const dense = emulateSparse24(p, p.meta, (r, cc) => {
        const t = r * groups + Math.min(Math.floor((32 * Math.floor(cc / 16)) / g), groups - 1);
        return Math.fround(f16ToF32(st.scales[t]!) * (codes[r * (p.kPad / 2) + cc]! - f16ToF32(st.zeros[t]!)));
      });
      expectDense(dense, p.kPad, decodeNMQuant(w), rows, cols, `[${rows}, ${cols}] g${g}`);
    });
  }
});
