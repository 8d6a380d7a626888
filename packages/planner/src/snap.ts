/**
 * Repairing a rounded allocation onto an exact budget: a heuristic plan
 * (OWL, a continuous allocation) rounded to ladder levels rarely sums to the
 * budget; move units one level at a time, preferring those whose rounding
 * was most lopsided, until the total is exact.
 *
 * Units of different sizes have incommensurate step costs (a 4096² layer's
 * 10 % step is not a sum of 64×172 layers' steps), so single moves often
 * cannot close the last gap. When the budget is a uniform level, each class
 * of identically-costed units is therefore repaired to its own share of that
 * level — always reachable, and exactly what EvoPress's level switch keeps.
 */
import { SparqError } from '@sparq/tensor';
import type { Budget } from './budget';
import { assignmentCost, type Assignment, type SearchSpace } from './space';

/** Greedy single-level moves over `members` until their cost equals `target`; returns the remaining difference. */
function repair(space: SearchSpace, a: Assignment, members: readonly number[], target: number, preference: Preference): number {
  const L = space.levels.length;
  const cost = () => members.reduce((s, i) => s + space.units[i]!.levelCosts[a[i]!]!, 0);
  for (let step = 0; step < members.length * L * 4; step++) {
    const diff = cost() - target;
    if (diff === 0) return 0;
    let best: { i: number; l: number; score: number } | undefined;
    for (const i of members) {
      const u = space.units[i]!;
      for (const l of [a[i]! - 1, a[i]! + 1]) {
        if (l < 0 || l >= L) continue;
        const d = u.levelCosts[l]! - u.levelCosts[a[i]!]!;
        const after = Math.abs(diff + d);
        if (after >= Math.abs(diff)) continue;
        // Fix the most first; among equals, the unit whose preference agrees with the direction.
        const p = preference(i, a[i]!);
        const score = after * 1e6 - (diff > 0 ? p : -p);
        if (!best || score < best.score) best = { i, l, score };
      }
    }
    if (!best) return diff;
    a[best.i] = best.l;
  }
  return cost() - target;
}

/**
 * How much unit `i`, now at `level`, wants to be more compressed (e.g. the
 * continuous target minus the level's value). Evaluated at the unit's
 * current level, so a unit that already moved stops being preferred.
 */
export type Preference = (i: number, level: number) => number;

/**
 * Adjusts `start` (level per unit) until its cost equals `budget.total`,
 * changing one unit by one level per step. `preference(i, level)` orders which
 * units move first: when the plan is over budget the unit with the largest
 * preference moves first (e.g. the rounding residual toward more
 * compression), re-evaluated after every move. Throws when the budget cannot be met.
 */
export function snapToBudget(space: SearchSpace, budget: Budget, start: Assignment, preference: Preference = () => 0): Assignment {
  const a = start.slice();
  const U = space.units.length;
  const uniformLevel = space.levels.findIndex((_, l) => space.units.reduce((s, u) => s + u.levelCosts[l]!, 0) === budget.total);
  if (uniformLevel >= 0) {
    const classes = new Map<string, number[]>();
    for (let i = 0; i < U; i++) {
      const k = space.units[i]!.levelCosts.join(',');
      classes.set(k, [...(classes.get(k) ?? []), i]);
    }
    let ok = true;
    for (const members of classes.values()) {
      const target = members.reduce((s, i) => s + space.units[i]!.levelCosts[uniformLevel]!, 0);
      if (repair(space, a, members, target, preference) !== 0) ok = false;
    }
    if (ok) return a;
  }
  repair(space, a, Array.from({ length: U }, (_, i) => i), budget.total, preference);
  const c = assignmentCost(space, a);
  if (c !== budget.total) {
    throw new SparqError('E_ARG', `cannot meet the budget exactly from this allocation: nearest total ${c}, budget ${budget.total} (${budget.label})`, {
      details: { expected: budget.total, found: c },
      hint: 'use a budget reachable on the ladder (e.g. a uniform level) or a finer ladder',
    });
  }
  return a;
}
