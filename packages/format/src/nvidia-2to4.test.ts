import { createRng, isSparqError } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { compressNM, decompressNM } from './nm';
import { cutlassReorderMeta, cutlassUnreorderMeta, fromNvidia2to4, nvidia2to4LogicalMeta, toNvidia2to4 } from './nvidia-2to4';
import { sameF32 } from './test-reference';

/**
 * Independent reference: the gather offsets of PyTorch's
 * `_sparse_semi_structured_from_dense` (torch/sparse/_semi_structured_conversions.py,
 * int16 meta branch: magic0 = 8, magic1 = 64, magic2 = 32, magic3 = 2k,
 * magic4 = [0, k/2, 1, k/2+1, k, 3k/2, k+1, 3k/2+1]), written as index arithmetic.
 * The code under test uses CUTLASS's scatter formulation instead.
 */
function torchGatherReorder(meta: Uint16Array, m: number, k: number): Uint16Array {
  const mc = k / 16;
  const magic4 = [0, k / 2, 1, k / 2 + 1, k, (3 * k) / 2, k + 1, (3 * k) / 2 + 1];
  const out = new Uint16Array(m * mc);
  for (let f = 0; f < m * mc; f++) {
    const row = Math.floor(f / 64);
    const j = f % 64;
    const tmp1 = 2 * Math.floor(f / (2 * m));
    const tmp2 = Math.floor(j / 8) * mc;
    const tmp3 = (row % (m / 32)) * 2 * k;
    const tmp4 = magic4[j % 8]!;
    out[f] = meta[tmp1 + tmp2 + tmp3 + tmp4]!;
  }
  return out;
}

/** A random exact 2:4 matrix (every group keeps two nonzeros). */
function random24(rows: number, cols: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const w = new Float32Array(rows * cols);
  for (let g = 0; g < (rows * cols) / 4; g++) {
    const a = rng.int(4);
    let b = rng.int(3);
    if (b >= a) b++;
    w[g * 4 + a] = rng.normal() + 3;
    w[g * 4 + b] = rng.normal() - 3;
  }
  return w;
}

describe('NVIDIA 2:4 metadata', () => {
  it('logical words: nibble j = chunk j as idx0 | idx1 << 2 (PyTorch encoding table)', () => {
    // chunks: [T,T,F,F] → 0b0100, [T,F,T,F] → 0b1000, [F,T,T,F] → 0b1001, [T,F,F,T] → 0b1100
    const w = Float32Array.of(1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1);
    const x = compressNM(w, 1, 16, 2, 4);
    expect(Array.from(nvidia2to4LogicalMeta(x))).toEqual([0b0100 | (0b1000 << 4) | (0b1001 << 8) | (0b1100 << 12)]);
  });

  it('CUTLASS reordering matches the PyTorch gather formula and round-trips', () => {
    for (const [rows, cols] of [[32, 32], [32, 64], [64, 32], [64, 128], [96, 64]] as const) {
      const w = random24(rows, cols, rows + cols);
      const x = compressNM(w, rows, cols, 2, 4);
      const logical = nvidia2to4LogicalMeta(x);
      const re = cutlassReorderMeta(logical, rows, cols);
      expect(Array.from(re)).toEqual(Array.from(torchGatherReorder(logical, rows, cols)));
      expect(Array.from(cutlassUnreorderMeta(re, rows, cols))).toEqual(Array.from(logical));
      const t = toNvidia2to4(x);
      expect(sameF32(decompressNM(fromNvidia2to4(t)), w)).toBe(true);
    }
  });

  it('rejects other patterns and unaligned shapes', () => {
    const code = (f: () => unknown): string | undefined => {
      try { f(); } catch (e) { return isSparqError(e) ? e.code : 'other'; }
      return undefined;
    };
    expect(code(() => nvidia2to4LogicalMeta(compressNM(new Float32Array(16), 1, 16, 4, 8)))).toBe('E_ARG');
    expect(code(() => toNvidia2to4(compressNM(new Float32Array(16 * 32), 16, 32, 2, 4)))).toBe('E_SHAPE_MISMATCH');
  });
});
