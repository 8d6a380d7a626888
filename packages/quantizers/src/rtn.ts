/**
 * Round-to-nearest (RTN) quantization: every group's min/max grid is fitted
 * on the weights themselves and each weight is rounded independently. No
 * calibration data; the baseline GPTQ is measured against.
 */
import { dequant, fitGrid, gridConfig, quantCode } from './grid';
import type { ClipSearchOptions, QuantResult, QuantSpec, WeightMatrix } from './types';
import { checkSpec, checkWeight } from './validate';

/** Options of {@link rtnQuantize}. */
export type RtnOptions = QuantSpec & {
  /** Search shrunk ranges per group (GPTQ's `mse=True`): `true` for grid 100, max shrink 0.8, norm 2.4. */
  clipSearch?: boolean | ClipSearchOptions;
};

/**
 * Quantizes `w` by round-to-nearest on a per-row, per-group min/max grid.
 * @example
 * const { weight, codes, scales, zeros } = rtnQuantize(w, { bits: 4, groupSize: 128, sym: false });
 */
export function rtnQuantize(w: WeightMatrix, spec: RtnOptions): QuantResult {
  checkWeight(w, 'rtnQuantize');
  const gs = checkSpec(spec, w.cols, 'rtnQuantize');
  const { rows, cols, data } = w;
  const cfg = gridConfig(spec.bits, spec.sym, spec.f16Stats ?? false, spec.clipSearch);
  const G = cols / gs;
  const weight = new Float64Array(rows * cols);
  const codes = new Uint8Array(rows * cols);
  const scales = new Float64Array(rows * G);
  const zeros = new Float64Array(rows * G);
  const sz = new Float64Array(2);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      const off = r * cols + g * gs;
      fitGrid(data, off, gs, cfg, sz);
      const scale = sz[0]!;
      const zero = sz[1]!;
      scales[r * G + g] = scale;
      zeros[r * G + g] = zero;
      for (let k = off; k < off + gs; k++) {
        const q = quantCode(data[k]!, scale, zero, cfg.maxq);
        codes[k] = q;
        weight[k] = dequant(q, scale, zero, cfg.f16);
      }
    }
  }
  return { weight, codes, scales, zeros };
}
