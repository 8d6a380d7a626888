/**
 * Budgets the search preserves exactly. Every budget is a target total cost in
 * the space's integer cost unit; helpers build the common ones (average
 * sparsity, average bits per weight, bytes) so the CLI can take them in
 * human units.
 */
import { SparqError } from '@sparq/tensor';
import { assignmentCost, type Assignment, type SearchSpace } from './space';

/** A budget: the exact total cost every candidate must have. */
export interface Budget {
  /** Target total cost (integer, in the space's cost unit). */
  total: number;
  /** Human description, e.g. `avg sparsity 50%` or `avg 3.0 bits/weight`. */
  label: string;
  /** A limit rather than an exact target (sizes in bits / bytes): the plan starts at the largest cost within it. */
  atMost?: boolean;
}

/**
 * The budget of a uniform plan at `level`: the natural way to state "average
 * X" when X is on the ladder, and the usual starting point of a search.
 */
export function budgetOfLevel(space: SearchSpace, level: number, label?: string): Budget {
  let total = 0;
  for (const u of space.units) total += u.levelCosts[level]!;
  return { total, label: label ?? `uniform ${space.levels[level]}` };
}

/** Throws `E_INTERNAL` unless `a` meets the budget exactly (the search's invariant). */
export function assertBudget(space: SearchSpace, a: Assignment, budget: Budget): void {
  const c = assignmentCost(space, a);
  if (c !== budget.total) {
    throw new SparqError('E_INTERNAL', `plan cost ${c} differs from the budget ${budget.total} (${budget.label})`, {
      details: { expected: budget.total, found: c },
    });
  }
}

/** Parameter-weighted average of a per-level quantity (e.g. sparsity or bits) over an assignment. */
export function weightedAverage(space: SearchSpace, a: Assignment, valueOfLevel: (level: number) => number): number {
  let num = 0;
  let den = 0;
  space.units.forEach((u, i) => {
    num += u.params * valueOfLevel(a[i]!);
    den += u.params;
  });
  return num / den;
}
