import { describe, expect, it } from 'vitest';
import { CalibrationStats } from './calibration-stats';
import { createRng } from './rng';

describe('CalibrationStats', () => {
  it('equals 2·XᵀX/n and Σx²/n computed directly, whatever the batching', () => {
    const rng = createRng(3);
    const n = 37;
    const C = 9;
    const x = rng.fillUniform(new Float32Array(n * C), -2, 2);
    const s = new CalibrationStats(C);
    // Uneven batches: 5 + 20 + 12 rows.
    s.addBatch(x.subarray(0, 5 * C), 5);
    s.addBatch(x.subarray(5 * C, 25 * C), 20);
    s.addBatch(x.subarray(25 * C), 12);
    const { hessian, meanSquare, samples } = s.result();
    expect(samples).toBe(n);
    for (let i = 0; i < C; i++) {
      let sq = 0;
      for (let k = 0; k < n; k++) sq += x[k * C + i]! ** 2;
      expect(meanSquare[i]).toBeCloseTo(sq / n, 12);
      for (let j = 0; j < C; j++) {
        let d = 0;
        for (let k = 0; k < n; k++) d += x[k * C + i]! * x[k * C + j]!;
        expect(hessian[i * C + j]).toBeCloseTo((2 * d) / n, 12);
      }
    }
  });

  it('rejects a batch of the wrong size and an empty result', () => {
    const s = new CalibrationStats(4);
    expect(() => s.addBatch(new Float32Array(7), 2)).toThrow(/expected 2×4 = 8 values, found 7/);
    expect(() => s.result()).toThrow(/no calibration samples/);
  });
});
