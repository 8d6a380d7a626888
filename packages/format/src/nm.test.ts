import { createRng, isSparqError, type PackedBits } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { decodeBitmask, encodeBitmask } from './bitmask';
import { compressNM, decompressNM, nmIndexBits, validateNM } from './nm';
import { decodeNMQuant, encodeNMQuant } from './nm-quant';
import { refF16, refGetCode, sameF32 } from './test-reference';

const rng = createRng(11);

/** A random [rows, cols] matrix pruned to at most n of every m (sometimes fewer, to exercise padding). */
function randomNM(rows: number, cols: number, n: number, m: number): { w: Float32Array; mask: Uint8Array } {
  const w = new Float32Array(rows * cols);
  const mask = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols / m; g++) {
      const k = rng.float() < 0.2 ? rng.int(n + 1) : n;
      const perm = Array.from({ length: m }, (_, j) => j).sort(() => rng.float() - 0.5);
      for (const j of perm.slice(0, k)) {
        mask[r * cols + g * m + j] = 1;
        w[r * cols + g * m + j] = rng.normal() || 1;
      }
    }
  }
  return { w, mask };
}

/** §3 decoding, straight from the packed bytes. */
function refDecodeNM(rows: number, cols: number, n: number, m: number, values: ArrayLike<number>, indices: Uint8Array): Float32Array {
  const kept = (cols / m) * n;
  const b = Math.ceil(Math.log2(m)) || 1;
  const rb = Math.ceil((kept * b) / 8);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < kept; s++) {
      const g = Math.floor(s / n);
      out[r * cols + g * m + refGetCode(indices, r * rb, s, b)] = values[r * kept + s]!;
    }
  }
  return out;
}

function errCode(f: () => unknown): string | undefined {
  try { f(); } catch (e) { return isSparqError(e) ? e.code : String(e); }
  return undefined;
}

describe('N:M (§3)', () => {
  it('index width is ceil(log2 M)', () => {
    expect([2, 3, 4, 5, 8, 9, 16].map(nmIndexBits)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('compress/decompress round-trips exactly for every 1 ≤ N < M ≤ 16', () => {
    for (let m = 2; m <= 16; m++) {
      for (let n = 1; n < m; n++) {
        for (const rows of [1, 3]) {
          const cols = m * (1 + rng.int(3));
          const { w, mask } = randomNM(rows, cols, n, m);
          const x = compressNM(w, rows, cols, n, m);
          expect(x.values.length).toBe((rows * cols * n) / m);
          expect(sameF32(decompressNM(x), w)).toBe(true);
          expect(sameF32(refDecodeNM(rows, cols, n, m, x.values, x.indices), w)).toBe(true);
          // With an explicit mask the kept slots are the mask's (padding still lowest-index unused).
          const xm = compressNM(w, rows, cols, n, m, mask);
          expect(sameF32(decompressNM(xm), w)).toBe(true);
        }
      }
    }
  });

  it('pads a short group with its lowest-index unused positions', () => {
    // 2:4 groups: [0, 5, 0, 0] keeps position 1 and pads with 0 → slots {0, 1};
    // [0, 0, 0, 7] keeps 3, pads 0 → {0, 3}; [0,0,0,0] → {0, 1}.
    const x = compressNM(Float32Array.of(0, 5, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0), 1, 12, 2, 4);
    expect(Array.from(x.values)).toEqual([0, 5, 0, 7, 0, 0]);
    // positions 0,1 | 0,3 | 0,1 as 2-bit codes LSB-first: 0b01_00 | 0b11_00<<4, then 0b0100
    expect(Array.from(x.indices)).toEqual([0b11000100, 0b0100]);
  });

  it('golden bytes: 2×8 2:4 (docs/format.md §7 example B)', () => {
    const w = Float32Array.of(0, 1.5, 0, -2, 3, 0, 0, 0.25, /**/ 0, 0, -1, 0, 0.5, 0, 0, 4);
    const x = compressNM(w, 2, 8, 2, 4);
    expect(Array.from(x.values)).toEqual([1.5, -2, 3, 0.25, 0, -1, 0.5, 4]);
    // row 0 positions (1,3)(0,3): 1 | 3<<2 | 0<<4 | 3<<6 = 0xcd; row 1 (0,2)(0,3) (group 0 padded with 0) = 0xc8
    expect(Array.from(x.indices)).toEqual([0xcd, 0xc8]);
  });

  it('names the first offending row and group', () => {
    const w = new Float32Array(2 * 8).fill(0);
    w[8 + 4] = w[8 + 5] = w[8 + 6] = 1; // row 1, group 1 keeps 3 of 4
    let err: unknown;
    try { validateNM(w, 2, 8, 2, 4, 'layers.0.q'); } catch (e) { err = e; }
    expect(isSparqError(err) && err.code).toBe('E_ARG');
    expect((err as Error).message).toContain('layers.0.q: row 1, group 1');
    expect(errCode(() => compressNM(new Float32Array(6), 1, 6, 2, 4))).toBe('E_SHAPE_MISMATCH');
    expect(errCode(() => compressNM(new Float32Array(4), 1, 4, 4, 4))).toBe('E_ARG');
    expect(errCode(() => compressNM(new Float32Array(17 * 2), 2, 17, 1, 17))).toBe('E_ARG');
    // value outside the mask
    expect(errCode(() => compressNM(Float32Array.of(1, 2, 0, 0), 1, 4, 2, 4, [1, 0, 0, 0]))).toBe('E_ARG');
    // corrupt indices: not strictly increasing
    const x = compressNM(Float32Array.of(1, 2, 0, 0), 1, 4, 2, 4);
    expect(errCode(() => decompressNM({ ...x, indices: Uint8Array.of(0b0101) }))).toBe('E_ARG');
  });
});

describe('unstructured bitmask', () => {
  it('round-trips random sparse matrices incl. odd shapes', () => {
    for (const [rows, cols] of [[1, 1], [3, 7], [5, 17], [4, 64]] as const) {
      const w = new Float32Array(rows * cols).map(() => (rng.float() < 0.4 ? rng.normal() : 0));
      const x = encodeBitmask(w, rows, cols);
      expect(x.mask.length).toBe(rows * Math.ceil(cols / 8));
      expect(sameF32(decodeBitmask(x), w)).toBe(true);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
        expect(refGetCode(x.mask, r * Math.ceil(cols / 8), c, 1)).toBe(w[r * cols + c] !== 0 ? 1 : 0);
      }
    }
    expect(errCode(() => decodeBitmask({ kind: 'bitmask', rows: 1, cols: 8, mask: Uint8Array.of(3), values: new Float32Array(1) }))).toBe('E_SHAPE_MISMATCH');
  });
});

describe('N:M + quant (§4)', () => {
  /** §4 reference: dequantize the compressed row per §2 with groups of g·n/m slots, then scatter per §3. */
  function refDecode(x: ReturnType<typeof encodeNMQuant>): Float32Array {
    const kept = (x.cols / x.m) * x.n;
    const G = x.cols / x.groupSize;
    const span = (x.groupSize * x.n) / x.m;
    const rb = Math.ceil((kept * x.bits) / 8);
    const zb = Math.ceil((G * x.bits) / 8);
    const vals = new Float32Array(x.rows * kept);
    for (let r = 0; r < x.rows; r++) for (let s = 0; s < kept; s++) {
      const g = Math.floor(s / span);
      const z = x.sym ? 2 ** (x.bits - 1) : refGetCode(x.zeros!, r * zb, g, x.bits);
      vals[r * kept + s] = Math.fround(refF16(x.scales[r * G + g]!) * (refGetCode(x.codes, r * rb, s, x.bits) - z));
    }
    return refDecodeNM(x.rows, x.cols, x.n, x.m, vals, x.indices);
  }

  it('decode(encode) equals the reference for every N:M × bits × sym (random group, odd rows), pruned entries exactly 0', () => {
    const patterns: [number, number][] = [];
    for (let m = 2; m <= 16; m++) for (let n = 1; n < m; n++) patterns.push([n, m]);
    for (const [n, m] of patterns) {
      for (const bits of [2, 3, 4, 8] as PackedBits[]) {
        for (const sym of [true, false]) {
          const rows = 1 + rng.int(4);
          const groupSize = m * (1 + rng.int(2));
          const cols = groupSize * (1 + rng.int(3));
          const { mask } = randomNM(rows, cols, n, m);
          const G = cols / groupSize;
          const denseLayout = rng.float() < 0.5;
          const kept = (cols / m) * n;
          const codes = new Uint8Array(denseLayout ? rows * cols : rows * kept).map(() => rng.int(1 << bits));
          const scales = new Float32Array(rows * G).map(() => rng.float() * 0.2 + 0.01);
          const zeros = sym ? undefined : new Uint8Array(rows * G).map(() => rng.int(1 << bits));
          const x = encodeNMQuant({ rows, cols, n, m, bits, groupSize, sym, mask, codes, scales, ...(zeros ? { zeros } : {}) });
          const dec = decodeNMQuant(x);
          expect(sameF32(dec, refDecode(x))).toBe(true);
          for (let i = 0; i < dec.length; i++) if (!mask[i]) expect(dec[i]).toBe(0);
          if (denseLayout) {
            // kept entries carry the given code
            const G2 = cols / groupSize;
            for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (mask[r * cols + c]) {
              const g = Math.floor(c / groupSize);
              const z = sym ? 2 ** (bits - 1) : zeros![r * G2 + g]!;
              expect(dec[r * cols + c]).toBe(Math.fround(refF16(x.scales[r * G2 + g]!) * (codes[r * cols + c]! - z)));
            }
          }
        }
      }
    }
  });

  it('rejects a group size that is not a multiple of M', () => {
    expect(errCode(() => encodeNMQuant({ rows: 1, cols: 12, n: 2, m: 4, bits: 4, groupSize: 6, sym: true, mask: new Uint8Array(12), codes: new Uint8Array(12), scales: new Float32Array(2) }))).toBe('E_SHAPE_MISMATCH');
  });
});
