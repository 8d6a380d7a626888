/**
 * Wanda (Sun et al. 2023, "A Simple and Effective Pruning Approach for LLMs"):
 * score each weight by |W_rc|·‖X_c‖ (the input column's RMS) and prune the
 * lowest scores per output row, without any weight update.
 */
import { SparqError } from '@sparq/tensor';
import { checkPatternFor } from './nm-check';
import { unstructuredTarget, type SparsityPattern } from './pattern';
import { pruneLowest, pruneNmGroup } from './select';
import { checkFinite, checkWeight, type PruneResult, type WeightMatrix } from './weight';
import { applyMask } from './magnitude';

/**
 * Wanda pruning. `meanSquare[j] = Σ_k X_kj² / n` per input column (from
 * `CalibrationStats.result().meanSquare`); score `S_rc = |W_rc| · sqrt(meanSquare[c])`.
 * Unstructured: per row (the paper's per-output comparison group), the lowest
 * scores, ties to the lower column. Row `r` prunes
 * `floor(s·cols·(r+1)) − floor(s·cols·r)` — `floor(s·cols)` or one more — so
 * the layer prunes exactly `floor(s·rows·cols)`; whenever `s·cols` is an
 * integer (e.g. 50 % of an even width) every row prunes exactly `s·cols`, the
 * reference code's rule.
 * N:M (`n` kept of `m`): per row and group of `m` columns, the `m − n` lowest.
 * Kept weights are unchanged.
 */
export function wandaPrune(w: WeightMatrix, meanSquare: Float64Array, pattern: SparsityPattern): PruneResult {
  checkWeight(w, 'wandaPrune');
  checkPatternFor(pattern, w.cols, 'wandaPrune');
  const { rows, cols, data } = w;
  if (meanSquare.length !== cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `wandaPrune: meanSquare must have one entry per input column (${cols}), found ${meanSquare.length}`, {
      details: { tensor: 'meanSquare', expected: cols, found: meanSquare.length },
    });
  }
  checkFinite(meanSquare, cols, 'wandaPrune: meanSquare');
  const norm = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const v = meanSquare[j]!;
    if (v < 0) {
      throw new SparqError('E_ARG', `wandaPrune: meanSquare[${j}] = ${v} is negative; it must be Σx²/n`, {
        details: { tensor: 'meanSquare', expected: '≥ 0', found: v },
      });
    }
    norm[j] = Math.sqrt(v);
  }
  const score = new Float64Array(data.length);
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    for (let j = 0; j < cols; j++) score[b + j] = Math.abs(data[b + j]!) * norm[j]!;
  }
  const mask = new Uint8Array(data.length);
  if (pattern.kind === 'unstructured') {
    const s = pattern.sparsity;
    const scratch = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      // Row r's quota is the increment of the cumulative layer target, so rows
      // prune ⌊s·cols⌋ or one more and the layer total is exactly ⌊s·rows·cols⌋.
      const k = unstructuredTarget(s, cols * (r + 1)) - unstructuredTarget(s, cols * r);
      pruneLowest(score.subarray(b, b + cols), k, mask.subarray(b, b + cols), 'exact', scratch);
    }
  } else {
    const prune = pattern.m - pattern.n;
    for (let g = 0; g < data.length; g += pattern.m) pruneNmGroup(score, g, 1, pattern.m, prune, mask, g, 1);
  }
  return { weight: applyMask(data, mask), mask };
}
