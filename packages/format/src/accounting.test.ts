import { describe, expect, it } from 'vitest';
import { accountDense, accountModel, accountPacked } from './accounting';
import { compressNM } from './nm';
import { encodeNMQuant } from './nm-quant';
import { encodeQuantized } from './quant-codec';
import { encodeOutliers, encodeSpqr, quantizeBilevelStat } from './spqr';

// A 4096×4096 layer, as in docs/format.md §8; each expectation is the hand-derived formula there.
const R = 4096;
const K = 4096;
const P = R * K;

describe('bits per weight (docs/format.md §8)', () => {
  it('dense f16: 16', () => {
    expect(accountDense('w', [R, K], 'f16').bitsPerWeight).toBe(16);
  });

  it('INT4 g128 asymmetric: 4 + 16/128 + 4/128 = 4.15625 (f16 zeros would give 4.25)', () => {
    const m = encodeQuantized({ rows: R, cols: K, bits: 4, groupSize: 128, sym: false, codes: new Uint8Array(P), scales: new Float32Array(R * 32), zeros: new Uint8Array(R * 32) });
    const a = accountPacked(m);
    expect(a.bitsPerWeight).toBe(4 + 16 / 128 + 4 / 128);
    expect(a.bitsPerWeight).toBe(4.15625);
    expect(a.bits.values / P).toBe(4);
    expect(a.bits.scales / P).toBe(16 / 128);
    expect(a.bits.zeros / P).toBe(4 / 128);
    // symmetric: no zeros
    const s = encodeQuantized({ rows: R, cols: K, bits: 4, groupSize: 128, sym: true, codes: new Uint8Array(P), scales: new Float32Array(R * 32) });
    expect(accountPacked(s).bitsPerWeight).toBe(4 + 16 / 128);
  });

  it('2:4 alone, f16 values: 16·2/4 + 2·2/4 = 9', () => {
    const x = compressNM(new Float32Array(P), R, K, 2, 4);
    const a = accountPacked(x, { valueDtype: 'f16' });
    expect(a.bitsPerWeight).toBe((16 * 2) / 4 + (2 * 2) / 4);
    expect(a.bits.indices / P).toBe(1);
  });

  it('2:4 + INT4 g128 asymmetric: 4·2/4 + 2·2/4 + 16/128 + 4/128 = 3.15625', () => {
    const x = encodeNMQuant({ rows: R, cols: K, n: 2, m: 4, bits: 4, groupSize: 128, sym: false, mask: new Uint8Array(P), codes: new Uint8Array(P), scales: new Float32Array(R * 32), zeros: new Uint8Array(R * 32) });
    expect(accountPacked(x).bitsPerWeight).toBe((4 * 2) / 4 + (2 * 2) / 4 + 16 / 128 + 4 / 128);
  });

  it('SpQR 3-bit g16, 3-bit bilevel stats (g2 = 16), 1% outliers', () => {
    const G = K / 16;
    const nnzPerRow = 41; // ≈ 1% of 4096
    const mask = new Uint8Array(P);
    for (let r = 0; r < R; r++) for (let i = 0; i < nnzPerRow; i++) mask[r * K + i * 97] = 1;
    const nnz = R * nnzPerRow;
    const stat = () => quantizeBilevelStat(new Float32Array(R * G).fill(1), R, G, 3, 16);
    const x = encodeSpqr({ rows: R, cols: K, bits: 3, groupSize: 16, codes: new Uint8Array(P), scales: stat(), zeros: stat(), outliers: encodeOutliers(R, K, mask, new Float32Array(P)) });
    const a = accountPacked(x);
    // codes 3; first-level stat codes 2·3/16; second-level f16 scale+zero for each of the two
    // stats per 16 rows × 16 columns: 2·2·16/(16·16); outliers (16-bit col + 16-bit value) per
    // outlier plus a 32-bit row pointer per row (+1).
    const formula = 3 + (2 * 3) / 16 + (2 * 2 * 16) / (16 * 16) + (32 * nnz + 32 * (R + 1)) / P;
    expect(a.bitsPerWeight).toBeCloseTo(formula, 12);
    expect(a.bits.stats / P).toBe(0.25);
    expect(a.bits.outliers / P).toBeCloseTo((32 * nnz + 32 * (R + 1)) / P, 12);
    expect(a.bitsPerWeight).toBeCloseTo(3.9531, 4);
  });

  it('model totals weigh tensors by size', () => {
    const m = accountModel([accountDense('a', [10, 10], 'f16'), accountDense('b', [10, 30], 'f32')]);
    expect(m.params).toBe(400);
    expect(m.bitsPerWeight).toBe((100 * 16 + 300 * 32) / 400);
    expect(m.compressedBitsPerWeight).toBe(0);
  });
});
