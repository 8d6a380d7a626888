/**
 * The seam between pruners and quantizers for SparseGPT's joint prune +
 * quantize pass. Pruners and quantizers are siblings and never import each
 * other: a quantizer builds a {@link ColumnQuantizer} and the caller injects it
 * into the pruner, which calls it on each column after masking.
 */

/**
 * Quantizes one column of a layer's weight (one value per output row), in the
 * order the OBS loop processes columns (left to right).
 */
export interface ColumnQuantizer {
  /** Bits per code. */
  readonly bits: number;
  /**
   * Columns per quantization group (`cols` for one group per row). At every
   * column `j` with `j % groupSize === 0` the caller first calls
   * {@link ColumnQuantizer.beginGroup} with the current weights of that group.
   */
  readonly groupSize: number;
  /**
   * Computes the per-row grid (scales / zeros) of the group starting at
   * column `col0` from `block` (`rows × width`, row-major: the current,
   * already-updated weights of columns `[col0, col0 + width)`, pruned entries
   * already zeroed). Optional: a quantizer whose grid is fixed up front (e.g.
   * per-channel statistics from the original weights) omits it.
   */
  beginGroup?(block: Float64Array, col0: number, width: number): void;
  /**
   * Returns the dequantized values `scale·(q − zero)` of `column` (length =
   * rows), the column at input index `col`. Maps 0 to exactly 0 whenever the
   * zero-point is an integer, so pruned weights stay pruned. Records the
   * integer codes it chose, for packing later.
   */
  quantize(column: Float64Array, col: number): Float64Array;
}
