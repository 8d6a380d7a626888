import { createRng } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { budgetOfLevel } from './budget';
import { evoPress, type FitnessFn, type SearchState } from './evopress';
import { levelSwitch } from './mutation';
import { assignmentCost, uniformAssignment, type SearchSpace } from './space';

/** A sparsity ladder 0%…80% over units of mixed sizes; cost = weights kept (exact integers). */
function sparsitySpace(sizes: number[]): SearchSpace {
  const levels = [0, 10, 20, 30, 40, 50, 60, 70, 80];
  return {
    levels: levels.map((p) => `${p}%`),
    units: sizes.map((params, i) => ({ name: `u${i}`, params, levelCosts: levels.map((p) => Math.round((params * (100 - p)) / 100)) })),
  };
}

/** Separable convex fitness Σ_i a_i·(level_i − c_i)² with random a, c: the optimum is computable exactly by DP. */
function separableProblem(U: number, L: number, seed: number) {
  const rng = createRng(seed);
  const a = Array.from({ length: U }, () => 0.5 + 2 * rng.float());
  const c = Array.from({ length: U }, () => rng.float() * (L - 1));
  const f = (i: number, l: number) => a[i]! * (l - c[i]!) ** 2;
  const space: SearchSpace = {
    levels: Array.from({ length: L }, (_, l) => `L${l}`),
    units: Array.from({ length: U }, (_, i) => ({ name: `u${i}`, params: 100, levelCosts: Array.from({ length: L }, (_, l) => l) })),
  };
  const fitness: FitnessFn = async (cands) => cands.map((x) => Array.from(x).reduce((s, l, i) => s + f(i, l), 0));
  return { space, f, fitness };
}

/** Exact optimum of Σ f_i(l_i) subject to Σ l_i = total (knapsack DP; independent of the search). */
function dpOptimum(U: number, L: number, total: number, f: (i: number, l: number) => number): number {
  let best = new Array(total + 1).fill(Infinity);
  best[0] = 0;
  for (let i = 0; i < U; i++) {
    const next = new Array(total + 1).fill(Infinity);
    for (let t = 0; t <= total; t++) {
      if (best[t] === Infinity) continue;
      for (let l = 0; l < L && t + l <= total; l++) next[t + l] = Math.min(next[t + l], best[t] + f(i, l));
    }
    best = next;
  }
  return best[total];
}

describe('level-switch mutation', () => {
  it('preserves the budget exactly over thousands of mutations, with mixed unit sizes', () => {
    // Sizes of a LLaMA block's linears (q,k,v,o: 4096², gate/up/down: 4096×11008) and a repeated pattern.
    const sizes = [16777216, 16777216, 16777216, 16777216, 45088768, 45088768, 45088768];
    const space = sparsitySpace([...sizes, ...sizes, ...sizes]);
    const budget = budgetOfLevel(space, 5); // average 50%
    const a = uniformAssignment(space, 5);
    const rng = createRng(11);
    let moved = 0;
    for (let k = 0; k < 5000; k++) {
      const before = a.slice();
      if (levelSwitch(space, a, rng)) moved++;
      expect(assignmentCost(space, a)).toBe(budget.total);
      // Exactly two units change (or none when no move was found).
      const changed = Array.from(a).filter((l, i) => l !== before[i]).length;
      expect([0, 2]).toContain(changed);
    }
    expect(moved).toBeGreaterThan(4000);
    // Units of unequal step cost never trade with each other: the sums per size class are each preserved.
    const classSum = (size: number) => space.units.reduce((s, u, i) => s + (u.params === size ? a[i]! : 0), 0);
    expect(classSum(16777216)).toBe(12 * 5);
    expect(classSum(45088768)).toBe(9 * 5);
  });
});

describe('evoPress', () => {
  it('finds the known optimum of a separable problem (exact DP) and keeps the budget', async () => {
    const U = 10;
    const L = 7;
    const { space, f, fitness } = separableProblem(U, L, 5);
    const budget = budgetOfLevel(space, 3);
    const r = await evoPress({
      space,
      budget,
      initial: uniformAssignment(space, 3),
      fitness,
      generations: 150,
      offspring: 12,
      stages: [
        { tokens: 128, survivors: 4 },
        { tokens: 1024, survivors: 1 },
      ],
      seed: 1,
    });
    expect(assignmentCost(space, r.best)).toBe(budget.total);
    const opt = dpOptimum(U, L, budget.total, f);
    expect(r.fitness).toBeCloseTo(opt, 10);
    // Elitism: the fitness curve never rises.
    for (let g = 1; g < r.state.history.length; g++) expect(r.state.history[g]!).toBeLessThanOrEqual(r.state.history[g - 1]!);
    // Multi-step selection: 12 offspring on stage 1, 4 on stage 2, per generation, plus the initial evaluation.
    expect(r.state.evaluations).toBe(1 + 150 * (12 + 4));
  });

  it('is deterministic for a seed, differs across seeds, and resumes to the same result', async () => {
    const { space, fitness } = separableProblem(12, 6, 9);
    const base = { space, budget: budgetOfLevel(space, 2), initial: uniformAssignment(space, 2), fitness, offspring: 6 };
    const a = await evoPress({ ...base, generations: 12, seed: 3 });
    const b = await evoPress({ ...base, generations: 12, seed: 3 });
    expect(b.state).toEqual(a.state);
    const c = await evoPress({ ...base, generations: 12, seed: 4 });
    expect(c.state.history).not.toEqual(a.state.history);
    let saved: SearchState | undefined;
    await evoPress({ ...base, generations: 5, seed: 3, onGeneration: (s) => void (saved = s) });
    const resumed = await evoPress({ ...base, generations: 12, seed: 3, resume: JSON.parse(JSON.stringify(saved)) });
    expect(resumed.state).toEqual(a.state);
  });

  it('rejects an initial plan off the budget and a last stage keeping more than one', async () => {
    const { space, fitness } = separableProblem(4, 4, 1);
    const budget = budgetOfLevel(space, 1);
    await expect(evoPress({ space, budget, initial: uniformAssignment(space, 2), fitness, generations: 1 })).rejects.toThrow(/differs from the budget/);
    await expect(
      evoPress({ space, budget, initial: uniformAssignment(space, 1), fitness, generations: 1, stages: [{ tokens: 8, survivors: 2 }] }),
    ).rejects.toThrow(/exactly 1 survivor/);
  });
});

describe('fillToBudget', () => {
  it('returns the costliest greedy plan within a size limit, never above it', async () => {
    const { fillToBudget } = await import('./plan-model');
    const space: SearchSpace = {
      levels: ['w8', 'w4', 'w3', 'w2'],
      units: [100, 100, 300].map((p, i) => ({ name: `u${i}`, params: p, levelCosts: [8, 4, 3, 2].map((b) => b * p) })),
    };
    // Cheapest: 2 bits everywhere = 1000; limit 1650 allows raising units greedily by the smallest steps.
    const a = fillToBudget(space, 1650);
    const c = assignmentCost(space, a);
    expect(c).toBeLessThanOrEqual(1650);
    // No single further upgrade fits.
    for (let i = 0; i < 3; i++) for (let l = 0; l < a[i]!; l++) expect(c - space.units[i]!.levelCosts[a[i]!]! + space.units[i]!.levelCosts[l]!).toBeGreaterThan(1650);
    expect(() => fillToBudget(space, 999)).toThrow(/below the cheapest plan/);
  });
});
