import { isSparqError } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { BUFFER_SLACK, fixedRows, planRowChunks } from './split';

describe('planRowChunks', () => {
  it('keeps a weight that fits in one chunk', () => {
    expect(planRowChunks(10, [fixedRows(100)], 1 << 20, 65535)).toEqual([{ r0: 0, r1: 10 }]);
  });
  it('cuts along rows so every array slice plus slack fits the binding limit', () => {
    // 100 B/row, limit 350 B: 3 rows (300 + 8) fit, 4 (408) do not.
    const chunks = planRowChunks(10, [fixedRows(100), fixedRows(10)], 350, 65535);
    expect(chunks).toEqual([
      { r0: 0, r1: 3 },
      { r0: 3, r1: 6 },
      { r0: 6, r1: 9 },
      { r0: 9, r1: 10 },
    ]);
    for (const c of chunks) expect((c.r1 - c.r0) * 100 + BUFFER_SLACK).toBeLessThanOrEqual(350);
  });
  it('handles rows of different sizes (SpQR outliers) and the grid limit', () => {
    // row sizes 5, 95, 5, 5, 90; slices may hold 114 − 12 = 102 bytes
    const prefix = [0, 5, 100, 105, 110, 200];
    expect(planRowChunks(5, [(r) => prefix[r]!], 114, 65535)).toEqual([
      { r0: 0, r1: 2 },
      { r0: 2, r1: 5 },
    ]);
    expect(planRowChunks(7, [fixedRows(1)], 1 << 20, 3)).toEqual([
      { r0: 0, r1: 3 },
      { r0: 3, r1: 6 },
      { r0: 6, r1: 7 },
    ]);
  });
  it('refuses a single row larger than the limit', () => {
    try {
      planRowChunks(2, [fixedRows(1000)], 512, 65535);
      expect.unreachable();
    } catch (e) {
      expect(isSparqError(e) && e.code).toBe('E_KERNEL_UNSUPPORTED');
    }
  });
});
