import { describe, expect, it } from 'vitest';
import { budgetOfLevel } from './budget';
import { outlierRatio, owlAssignment, owlSparsities } from './owl';
import { snapToBudget } from './snap';
import { planSvg } from './report-svg';
import { assignmentCost, type SearchSpace } from './space';

describe('OWL', () => {
  it('outlier ratio counts scores above M × the layer mean (direct count)', () => {
    // 2×4, meanSquare makes column norms [1, 2, 1, 1]; scores |W|·norm.
    const w = [1, 1, 1, 1, 1, 1, 1, 40];
    const ms = [1, 4, 1, 1];
    // scores: [1,2,1,1, 1,2,1,40]; mean = 49/8 = 6.125; 5×mean = 30.625 → only 40 exceeds.
    expect(outlierRatio(w, 2, 4, ms, 5)).toBe(1 / 8);
    // With M = 0.3: threshold 1.8375 → the two 2s and the 40 exceed.
    expect(outlierRatio(w, 2, 4, ms, 0.3)).toBe(3 / 8);
  });

  it('sparsities keep the mean at the target, stay within ±λ, and fall as the outlier ratio rises', () => {
    const ratios = [0.01, 0.05, 0.02, 0.08, 0.03];
    const s = owlSparsities(ratios, 0.6, 0.08);
    expect(s.reduce((a, b) => a + b, 0) / s.length).toBeCloseTo(0.6, 12);
    expect(Math.max(...s) - Math.min(...s)).toBeCloseTo(0.16, 12);
    const order = ratios.map((_, i) => i).sort((a, b) => ratios[a]! - ratios[b]!);
    for (let k = 1; k < order.length; k++) expect(s[order[k]!]!).toBeLessThan(s[order[k - 1]!]!);
  });

  it('snaps to the ladder on the exact budget', () => {
    const levels = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const space: SearchSpace = {
      levels: levels.map((p) => `${Math.round(p * 100)}%`),
      units: Array.from({ length: 8 }, (_, i) => ({ name: `l${i}`, params: 1000, levelCosts: levels.map((p) => Math.round(1000 * (1 - p))) })),
    };
    const budget = budgetOfLevel(space, 5);
    const ratios = [0.001, 0.02, 0.004, 0.03, 0.011, 0.007, 0.05, 0.002];
    const a = owlAssignment(space, budget, ratios, 0.5, levels, 0.08);
    expect(assignmentCost(space, a)).toBe(budget.total);
    // The unit with the most outliers is pruned least, the one with the fewest most.
    expect(a[6]!).toBeLessThanOrEqual(Math.min(...a));
    expect(a[0]!).toBeGreaterThanOrEqual(Math.max(...a) - 1);
    const svg = planSvg(space, a, { title: 'OWL 50%', history: [0.3, 0.2, 0.15] });
    expect(svg.match(/<rect x=/g)).toHaveLength(8);
    expect(svg).toContain('<polyline');
  });
});

describe('OWL snapping', () => {
  it('moves each unit at most one level off OWL’s nearest level when repairing the budget', () => {
    // 10 equal units; OWL wants 0.448 for the first two (nearest level 40 %, strong pull to 50 %), 0.5 elsewhere ± noise.
    const levels = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const space: SearchSpace = {
      levels: levels.map((p) => `${Math.round(p * 100)}%`),
      units: Array.from({ length: 10 }, (_, i) => ({ name: `l${i}`, params: 100, levelCosts: levels.map((p) => Math.round(100 * (100 - 100 * p))) })),
    };
    const budget = budgetOfLevel(space, 3);
    // Outlier ratios chosen so OWL's sparsities (band ±0.08) round below 50 % for several units.
    const ratios = [0.05, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.01, 0.02];
    const s = owlSparsities(ratios, 0.5, 0.08);
    const a = owlAssignment(space, budget, ratios, 0.5, levels, 0.08);
    expect(assignmentCost(space, a)).toBe(budget.total);
    for (let i = 0; i < 10; i++) expect(Math.abs(levels[a[i]!]! - s[i]!)).toBeLessThanOrEqual(0.1 + 1e-12);
  });
});

describe('snapToBudget', () => {
  it('re-evaluates preferences after each move, spreading the repair instead of piling it on one unit', () => {
    const levels = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const space: SearchSpace = {
      levels: levels.map((p) => `${Math.round(p * 100)}%`),
      units: Array.from({ length: 10 }, (_, i) => ({ name: `l${i}`, params: 100, levelCosts: levels.map((p) => Math.round(100 * (100 - 100 * p))) })),
    };
    // Every unit wants ~45-49 %, all start at 40 %: the budget (50 %) needs ten one-level moves up.
    const want = [0.49, 0.48, 0.47, 0.46, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45];
    const a = snapToBudget(space, budgetOfLevel(space, 3), new Int32Array(10).fill(2), (i, l) => want[i]! - levels[l]!);
    expect(Array.from(a)).toEqual(new Array(10).fill(3));
  });
});
