/**
 * The {@link ColumnQuantizer} that SparseGPT's joint prune + quantize pass
 * calls on every column after masking (pruners never import quantizers; the
 * caller injects this). Per-channel grids are fixed up front from the
 * original weights, as the reference; grouped grids are fitted by
 * `beginGroup` on the block the pruner passes.
 */
import type { ColumnQuantizer } from '@sparq/format';
import { SparqError, invariant } from '@sparq/tensor';
import { dequant, fitGrid, gridConfig, quantCode } from './grid';
import type { QuantSpec, WeightMatrix } from './types';
import { checkSpec, checkWeight } from './validate';

/** The codes and grids a {@link createColumnQuantizer} recorded, in the layout of {@link QuantResult}. */
export interface ColumnQuantizerResult {
  /** `rows × cols` codes (columns never quantized stay 0). */
  codes: Uint8Array;
  /** `rows × G` scales. */
  scales: Float64Array;
  /** `rows × G` integer zero-points. */
  zeros: Float64Array;
}

/**
 * A column quantizer for weight `w` (`rows × cols`). With `groupSize: -1` every row's min/max grid comes from the
 * original `w` now; otherwise the caller must call `beginGroup` at each group start with the current block.
 * @example
 * const cq = createColumnQuantizer(w, { bits: 4, groupSize: -1, sym: false });
 * sparseGptPrune(w, h, { sparsity: 0.5, quantizer: cq }); const { codes, scales, zeros } = cq.result();
 */
export function createColumnQuantizer(w: WeightMatrix, spec: QuantSpec): ColumnQuantizer & { result(): ColumnQuantizerResult } {
  const what = 'createColumnQuantizer';
  checkWeight(w, what);
  const gs = checkSpec(spec, w.cols, what);
  const { rows, cols } = w;
  const cfg = gridConfig(spec.bits, spec.sym, spec.f16Stats ?? false);
  const G = cols / gs;
  const codes = new Uint8Array(rows * cols);
  const scales = new Float64Array(rows * G);
  const zeros = new Float64Array(rows * G);
  const fitted = new Uint8Array(G);
  const sz = new Float64Array(2);
  const fitRow = (src: Float64Array, off: number, len: number, r: number, g: number) => {
    fitGrid(src, off, len, cfg, sz);
    scales[r * G + g] = sz[0]!;
    zeros[r * G + g] = sz[1]!;
  };
  if (spec.groupSize === -1) {
    for (let r = 0; r < rows; r++) fitRow(w.data, r * cols, cols, r, 0);
    fitted[0] = 1;
  }
  const beginGroup = (block: Float64Array, col0: number, width: number): void => {
    if (col0 % gs !== 0 || width !== gs || col0 + width > cols || block.length !== rows * width) {
      throw new SparqError('E_SHAPE_MISMATCH', `${what}.beginGroup: expected a ${rows}×${gs} block at a multiple of ${gs}, found ${block.length} values (width ${width}) at column ${col0}`, {
        details: { expected: { rows, width: gs, col0: `multiple of ${gs}` }, found: { length: block.length, width, col0 } },
      });
    }
    const g = col0 / gs;
    for (let r = 0; r < rows; r++) fitRow(block, r * width, width, r, g);
    fitted[g] = 1;
  };
  const cq: ColumnQuantizer & { result(): ColumnQuantizerResult } = {
    bits: spec.bits,
    groupSize: gs,
    quantize(column: Float64Array, col: number): Float64Array {
      const g = Math.floor(col / gs);
      invariant(col >= 0 && col < cols && column.length === rows, () => `${what}.quantize: column ${col} of length ${column.length}, expected < ${cols} and ${rows}`);
      invariant(fitted[g] === 1, () => `${what}.quantize: column ${col} quantized before beginGroup of group ${g}`);
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        const scale = scales[r * G + g]!;
        const zero = zeros[r * G + g]!;
        const q = quantCode(column[r]!, scale, zero, cfg.maxq);
        codes[r * cols + col] = q;
        out[r] = dequant(q, scale, zero, cfg.f16);
      }
      return out;
    },
    result: () => ({ codes, scales, zeros }),
  };
  if (spec.groupSize !== -1) cq.beginGroup = beginGroup;
  return cq;
}
