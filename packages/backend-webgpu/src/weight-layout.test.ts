/**
 * Host-side weight preparation against the reference decoders of
 * @sparq/tensor: SpQR's bilevel statistics (decoded once at upload) and the
 * row slicing used to split weights.
 */
import { randomQuantized, randomSpqr } from '@sparq/conformance';
import { createRng, decodeBilevelStat, Tensor } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { decodeStat, denseArrays, packedArrays } from './weight-layout';

const rng = createRng(0x1a7);

describe('weight layout', () => {
  it('decodes SpQR bilevel statistics exactly like the reference (§6)', () => {
    for (const [rows, cols, g, gr] of [[37, 64, 16, 16], [21, 48, 16, 5], [9, 40, 8, 3]] as const) {
      const w = randomSpqr(rng, rows, cols, 3, g, gr);
      for (const stat of [w.scales, w.zeros]) expect(decodeStat(stat, rows, cols / g)).toEqual(decodeBilevelStat(stat, rows, cols / g));
    }
  });
  it('slices packed arrays at row boundaries whose offsets match their lengths', () => {
    const w = randomQuantized(rng, 7, 96, 3, 32, false);
    const arrays = packedArrays(w);
    expect(arrays).toHaveLength(3);
    const lengths = [w.codes.byteLength, w.scales.byteLength, w.zeros!.byteLength];
    arrays.forEach((a, i) => {
      expect(a.offset(7)).toBe(lengths[i]);
      expect(a.slice(2, 5).byteLength).toBe(a.offset(5) - a.offset(2));
    });
    expect([...(arrays[0]!.slice(2, 3) as Uint8Array)]).toEqual([...w.codes.subarray(2 * 36, 3 * 36)]);
  });
  it('rebases SpQR outlier row pointers per chunk', () => {
    const w = randomSpqr(rng, 40, 64, 4, 16, 16);
    const [, , , rowPtr, cols] = packedArrays(w);
    const rp = rowPtr!.slice(10, 20) as Uint32Array;
    expect(rp[0]).toBe(0);
    expect(rp.length).toBe(11);
    expect(rp[10]).toBe(w.outliers.rowPtr[20]! - w.outliers.rowPtr[10]!);
    expect([...(cols!.slice(10, 20) as Uint32Array)]).toEqual([...w.outliers.cols.subarray(w.outliers.rowPtr[10]!, w.outliers.rowPtr[20]!)]);
  });
  it('copies column blocks of a [k, n] dense weight as [k, nc] matrices', () => {
    const b = Tensor.f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect([...(denseArrays(b, 'N-f32').slice(1, 3) as Float32Array)]).toEqual([2, 3, 5, 6]);
  });
});
