/**
 * The dense float64 weight the solvers work on. Defined here, below both
 * solver packages, so pruners and quantizers (siblings that never import each
 * other) share one type instead of two copies.
 */

/** Row-major float64 weight: `rows` = output features, `cols` = input features. Solvers never modify `data`. */
export interface WeightMatrix {
  rows: number;
  cols: number;
  /** `rows × cols` values, row-major. */
  data: Float64Array;
}
