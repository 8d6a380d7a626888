/**
 * Magnitude pruning: drop the weights of smallest |W| — per layer for
 * unstructured sparsity, per row and group of M columns for N:M.
 */
import { checkPatternFor } from './nm-check';
import { unstructuredTarget, type SparsityPattern } from './pattern';
import { pruneLowest, pruneNmGroup, type TieRule } from './select';
import { checkWeight, type PruneResult, type WeightMatrix } from './weight';

/** Options of {@link magnitudePrune}. */
export interface MagnitudeOptions {
  /**
   * Unstructured only. `'exact'` (default): exactly `floor(sparsity·rows·cols)`
   * weights of the layer, smallest |W| first, ties to the lower flat (row-major)
   * index. `'reference'`: the reference code's `|W| ≤ sorted[floor(..)]`, which
   * prunes one more (plus any ties) — for reproducing published fixtures.
   * Sparsity 0 prunes nothing under either rule.
   */
  tieRule?: TieRule;
}

/**
 * Magnitude pruning. Unstructured: the layer's smallest |W| (see
 * {@link MagnitudeOptions.tieRule}). N:M (`n` kept of `m`): in every row and
 * every group of `m` consecutive columns starting at a multiple of `m`, the
 * `m − n` smallest |W| (ties to the lower column). Kept weights are unchanged.
 * @example magnitudePrune({ rows, cols, data }, parsePattern('2:4')).mask
 */
export function magnitudePrune(w: WeightMatrix, pattern: SparsityPattern, opts: MagnitudeOptions = {}): PruneResult {
  checkWeight(w, 'magnitudePrune');
  checkPatternFor(pattern, w.cols, 'magnitudePrune');
  const { rows, cols, data } = w;
  const score = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) score[i] = Math.abs(data[i]!);
  const mask = new Uint8Array(data.length);
  if (pattern.kind === 'unstructured') {
    // Sparsity 0 ('dense') prunes nothing under either rule.
    if (pattern.sparsity > 0) pruneLowest(score, unstructuredTarget(pattern.sparsity, rows * cols), mask, opts.tieRule ?? 'exact');
  } else {
    const prune = pattern.m - pattern.n;
    for (let g = 0; g < data.length; g += pattern.m) pruneNmGroup(score, g, 1, pattern.m, prune, mask, g, 1);
  }
  return { weight: applyMask(data, mask), mask };
}

/** A copy of `data` with the masked entries set to 0. */
export function applyMask(data: Float64Array, mask: Uint8Array): Float64Array {
  const out = Float64Array.from(data);
  for (let i = 0; i < out.length; i++) if (mask[i] !== 0) out[i] = 0;
  return out;
}
