/**
 * OWL (Yin et al., 2024, "Outlier Weighed Layerwise Sparsity"): layers with
 * more activation-aware outliers keep more weights. The layer outlier ratio
 * is the fraction of Wanda scores |W_ij|·‖X_j‖ above M times the layer's mean
 * score; sparsities are set around the target in [S − λ, S + λ], inversely to
 * the ratio, with the mean preserved — then snapped to the ladder on the exact
 * budget.
 */
import { SparqError } from '@sparq/tensor';
import type { Budget } from './budget';
import { snapToBudget } from './snap';
import type { Assignment, SearchSpace } from './space';

/**
 * Fraction of entries whose Wanda score `|W_ij|·sqrt(meanSquare_j)` exceeds
 * `threshold` (OWL's M, default 5) times the mean score of the layer.
 * `w` is row-major `[rows, cols]`; `meanSquare` is `Σ_k X_kj² / n` per input column.
 */
export function outlierRatio(w: ArrayLike<number>, rows: number, cols: number, meanSquare: ArrayLike<number>, threshold = 5): number {
  if (w.length !== rows * cols || meanSquare.length !== cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `outlierRatio: expected W of ${rows}×${cols} and ${cols} norms, found ${w.length} and ${meanSquare.length}`);
  }
  const norm = Float64Array.from({ length: cols }, (_, j) => Math.sqrt(meanSquare[j]!));
  let sum = 0;
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) sum += Math.abs(w[r * cols + j]!) * norm[j]!;
  const cut = (threshold * sum) / (rows * cols);
  let count = 0;
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) if (Math.abs(w[r * cols + j]!) * norm[j]! > cut) count++;
  return count / (rows * cols);
}

/**
 * {@link outlierRatio} over several matrices taken together (OWL scores a
 * decoder block as the concatenation of all its linears' scores).
 */
export function outlierRatioOf(parts: readonly { w: ArrayLike<number>; rows: number; cols: number; meanSquare: ArrayLike<number> }[], threshold = 5): number {
  let sum = 0;
  let count = 0;
  const norms = parts.map((p) => Float64Array.from({ length: p.cols }, (_, j) => Math.sqrt(p.meanSquare[j]!)));
  parts.forEach((p, k) => {
    for (let r = 0; r < p.rows; r++) for (let j = 0; j < p.cols; j++) sum += Math.abs(p.w[r * p.cols + j]!) * norms[k]![j]!;
    count += p.rows * p.cols;
  });
  const cut = (threshold * sum) / count;
  let above = 0;
  parts.forEach((p, k) => {
    for (let r = 0; r < p.rows; r++) for (let j = 0; j < p.cols; j++) if (Math.abs(p.w[r * p.cols + j]!) * norms[k]![j]! > cut) above++;
  });
  return above / count;
}

/**
 * OWL's layerwise sparsities: `keep_l ∝ D_l` linearly mapped onto a band of
 * width 2λ, shifted so the mean sparsity equals `target` (the OWL reference
 * code's rule). Returns one sparsity per entry of `ratios`.
 */
export function owlSparsities(ratios: readonly number[], target: number, lambda = 0.08): number[] {
  if (!(target >= 0 && target < 1)) throw new SparqError('E_ARG', `target sparsity must be in [0, 1), found ${target}`);
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const scaled = ratios.map((d) => (hi > lo ? ((d - lo) / (hi - lo)) * 2 * lambda : lambda));
  const mean = scaled.reduce((a, b) => a + b, 0) / scaled.length;
  return scaled.map((k) => 1 - (k - mean + (1 - target)));
}

/**
 * An OWL plan on a sparsity ladder: OWL's continuous sparsity per unit,
 * snapped to the nearest ladder level and repaired to the budget exactly.
 * `sparsityOfLevel[l]` is the sparsity of ladder level `l`.
 */
export function owlAssignment(
  space: SearchSpace,
  budget: Budget,
  ratios: readonly number[],
  target: number,
  sparsityOfLevel: readonly number[],
  lambda = 0.08,
): Assignment {
  if (ratios.length !== space.units.length) {
    throw new SparqError('E_ARG', `owlAssignment: expected ${space.units.length} outlier ratios, found ${ratios.length}`);
  }
  const s = owlSparsities(ratios, target, lambda);
  // Continuous level position of each unit on the (monotone) ladder.
  const pos = s.map((x) => {
    let best = 0;
    for (let l = 1; l < sparsityOfLevel.length; l++) if (Math.abs(sparsityOfLevel[l]! - x) < Math.abs(sparsityOfLevel[best]! - x)) best = l;
    return best;
  });
  // Rounding residual: positive where OWL wanted more sparsity than the level gives.
  return snapToBudget(space, budget, Int32Array.from(pos), (i, level) => s[i]! - sparsityOfLevel[level]!);
}
