// The host-side SpQR decode (an independent implementation) read back through
// the kernels' fragment emulation equals the reference decoder's output
// rounded to f16, for every bit width, group size and second-level grouping.
import { randomSpqr } from '@sparq/conformance';
import { createRng, decodeSpqr, f32ToF16 } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { emulateF16FragmentReads } from './fragments';
import { spqrToF16Fragments } from './spqr';

const rng = createRng(21);

describe('SpQR → f16 fragments', () => {
  for (const [bits, rows, cols, g, gr] of [
    [3, 37, 64, 16, 16],
    [3, 21, 48, 16, 5],
    [4, 53, 128, 16, 16],
    [2, 17, 40, 8, 3],
    [8, 32, 32, 32, 16],
    [4, 5, 1024, 16, 16],
  ] as const) {
    it(`q${bits} [${rows}, ${cols}] g${g} g2=${gr} (outliers overwrite)`, () => {
      const w = randomSpqr(rng, rows, cols, bits, g, gr);
      expect(w.outliers.rowPtr[rows]).toBeGreaterThan(0);
      const p = spqrToF16Fragments(w);
      const got = emulateF16FragmentReads(p.fragments, p.nPad, p.kPad);
      const ref = decodeSpqr(w);
      for (let r = 0; r < p.nPad; r++) {
        for (let c = 0; c < p.kPad; c++) {
          const want = r < rows && c < cols ? f32ToF16(ref[r * cols + c]!) : 0;
          if (got[r * p.kPad + c] !== want) expect.fail(`(${r}, ${c}): ${got[r * p.kPad + c]} vs f16(reference) ${want}`);
        }
      }
    });
  }
});
