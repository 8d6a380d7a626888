/**
 * Repairing a rounded allocation onto an exact budget: a heuristic plan
 * (OWL, a continuous allocation) rounded to ladder levels rarely sums to the
 * budget; move units one level at a time, preferring those whose rounding
 * was most lopsided, until the total is exact.
 */
import { SparqError } from '@sparq/tensor';
import type { Budget } from './budget';
import { assignmentCost, type Assignment, type SearchSpace } from './space';

/**
 * Adjusts `start` (level per unit) until its cost equals `budget.total`,
 * changing one unit by one level per step. `preference[i]` orders which units
 * move first: when the plan is over budget the unit whose preference says it
 * should be cheaper moves first. Throws when the budget cannot be met.
 */
export function snapToBudget(space: SearchSpace, budget: Budget, start: Assignment, preference: readonly number[]): Assignment {
  const a = start.slice();
  const L = space.levels.length;
  for (let step = 0; step < space.units.length * L * 4; step++) {
    const diff = assignmentCost(space, a) - budget.total;
    if (diff === 0) return a;
    // Candidate single-level moves that reduce |diff| without overshooting past zero more than they fix.
    let best: { i: number; l: number; score: number } | undefined;
    space.units.forEach((u, i) => {
      for (const l of [a[i]! - 1, a[i]! + 1]) {
        if (l < 0 || l >= L) continue;
        const d = u.levelCosts[l]! - u.levelCosts[a[i]!]!;
        const after = Math.abs(diff + d);
        if (after >= Math.abs(diff)) continue;
        // Prefer moves that fix the most, then the unit whose preference agrees with the direction.
        const score = after * 1e6 - (diff > 0 ? preference[i]! : -preference[i]!);
        if (!best || score < best.score) best = { i, l, score };
      }
    });
    if (!best) break;
    a[best.i] = best.l;
  }
  const c = assignmentCost(space, a);
  if (c !== budget.total) {
    throw new SparqError('E_ARG', `cannot meet the budget exactly from this allocation: nearest total ${c}, budget ${budget.total} (${budget.label})`, {
      details: { expected: budget.total, found: c },
      hint: 'use a budget reachable on the ladder (e.g. a uniform level) or a finer ladder',
    });
  }
  return a;
}
