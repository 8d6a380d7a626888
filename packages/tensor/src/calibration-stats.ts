/**
 * Streaming calibration statistics of one linear layer's inputs: the Hessian
 * proxy `H = 2·XᵀX / n` (GPTQ / SparseGPT) and the per-input-channel mean
 * square `Σ_k X_kj² / n` (Wanda), accumulated in float64 batch by batch so
 * no calibration activations are ever held together.
 */
import { SparqError } from './errors';

/**
 * Accumulates `H = 2·XᵀX / n` and `Σ X² / n` over rows of X (one row per token).
 * `n` counts rows. The running-average form matches GPTQ's `add_batch` up to a
 * positive factor (it counts sequences, we count tokens); every solver is
 * invariant to a positive rescaling of H.
 * @example
 * const s = new CalibrationStats(4096);
 * s.addBatch(x, tokens); // x: Float32Array of tokens × 4096
 * const { hessian, meanSquare, samples } = s.result();
 */
export class CalibrationStats {
  /** Input features (columns of X). */
  readonly cols: number;
  private readonly xtx: Float64Array;
  private readonly sq: Float64Array;
  private n = 0;

  /** An empty accumulator for inputs of `cols` features. */
  constructor(cols: number) {
    if (!(Number.isInteger(cols) && cols > 0)) throw new SparqError('E_ARG', `CalibrationStats: cols must be a positive integer, found ${cols}`);
    this.cols = cols;
    this.xtx = new Float64Array(cols * cols);
    this.sq = new Float64Array(cols);
  }

  /** Rows accumulated so far. */
  get samples(): number {
    return this.n;
  }

  /** Adds `rows` rows of X (`x` row-major, `rows × cols`). */
  addBatch(x: ArrayLike<number>, rows: number): void {
    const C = this.cols;
    if (x.length !== rows * C) {
      throw new SparqError('E_SHAPE_MISMATCH', `CalibrationStats.addBatch: expected ${rows}×${C} = ${rows * C} values, found ${x.length}`, {
        details: { expected: rows * C, found: x.length },
      });
    }
    const row = new Float64Array(C);
    const H = this.xtx;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < C; j++) row[j] = x[r * C + j]!;
      for (let i = 0; i < C; i++) {
        const xi = row[i]!;
        if (xi === 0) continue;
        this.sq[i] += xi * xi;
        const o = i * C;
        // Lower triangle only (mirrored in result()): half the work.
        for (let j = 0; j <= i; j++) H[o + j] += xi * row[j]!;
      }
    }
    this.n += rows;
  }

  /**
   * `hessian` = `2·XᵀX / n` (full symmetric, row-major `cols × cols`) and
   * `meanSquare` = `Σ_k X_kj² / n`. Throws when no sample was added.
   */
  result(): { hessian: Float64Array; meanSquare: Float64Array; samples: number } {
    if (this.n === 0) throw new SparqError('E_ARG', 'CalibrationStats.result: no calibration samples were added');
    const C = this.cols;
    const H = new Float64Array(C * C);
    const f = 2 / this.n;
    for (let i = 0; i < C; i++) {
      for (let j = 0; j <= i; j++) {
        const v = this.xtx[i * C + j]! * f;
        H[i * C + j] = v;
        H[j * C + i] = v;
      }
    }
    const meanSquare = new Float64Array(C);
    for (let j = 0; j < C; j++) meanSquare[j] = this.sq[j]! / this.n;
    return { hessian: H, meanSquare, samples: this.n };
  }
}
