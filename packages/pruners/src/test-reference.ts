/**
 * Test-only float64 reference implementations of the mask rules, written
 * independently of the code under test (index sorts with explicit tie-breaks),
 * and seeded test weights. Not exported from the package.
 */
import { createRng } from '@sparq/tensor';

/** Random weights; `levels` > 0 rounds them to that many distinct magnitudes so that ties are common. */
export function randomWeights(rows: number, cols: number, seed: number, levels = 0): Float64Array {
  const rng = createRng(seed);
  const w = new Float64Array(rows * cols);
  rng.fillNormal(w, 0.02);
  if (levels > 0) for (let i = 0; i < w.length; i++) w[i] = Math.round(w[i]! * 50 * levels) / levels;
  return w;
}

/** Float64 reference: indices sorted by (score, index), first k pruned (exact) or all ≤ sorted[k] (reference). */
export function refUnstructured(score: number[], k: number, rule: 'exact' | 'reference'): Uint8Array {
  const idx = score.map((_, i) => i).sort((a, b) => score[a]! - score[b]! || a - b);
  const mask = new Uint8Array(score.length);
  if (rule === 'exact') for (let t = 0; t < k; t++) mask[idx[t]!] = 1;
  else {
    const th = score[idx[k]!]!;
    score.forEach((s, i) => s <= th && (mask[i] = 1));
  }
  return mask;
}

/** Float64 reference N:M: per row and group of m, the m − n lowest scores by (score, index). */
export function refNm(score: Float64Array, rows: number, cols: number, n: number, m: number): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += m) {
      const idx = Array.from({ length: m }, (_, j) => r * cols + g + j).sort((a, b) => score[a]! - score[b]! || a - b);
      for (let t = 0; t < m - n; t++) mask[idx[t]!] = 1;
    }
  }
  return mask;
}

