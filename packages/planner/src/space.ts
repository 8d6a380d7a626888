/**
 * The search space of a plan: compressible units (linear layers or whole
 * blocks), each with a ladder of compression levels and the exact cost of
 * each level. The budget is the sum of the chosen levels' costs.
 */
import { SparqError } from '@sparq/tensor';

/** One compressible unit and the cost of each of its levels. */
export interface PlanUnit {
  /** HF name of the linear layer (or a block label). */
  readonly name: string;
  /** Weights in the unit (for reports and averages). */
  readonly params: number;
  /**
   * Cost of the unit at each level, in an exact integer unit: weights kept,
   * bits stored, bytes, or a latency in integer nanoseconds. Integers keep
   * budget sums exact (|sum| < 2⁵³).
   */
  readonly levelCosts: readonly number[];
}

/** Units plus the labels of the shared level ladder (`'0%'…'80%'`, `'w2'…'w16'`, `'2:4+w4'` …). */
export interface SearchSpace {
  readonly units: readonly PlanUnit[];
  /** Label of each level index (every unit has `levels.length` levels). */
  readonly levels: readonly string[];
}

/** A candidate plan: one level index per unit. */
export type Assignment = Int32Array;

/** Throws `E_ARG` unless every unit has one integer cost per level. */
export function validateSpace(space: SearchSpace): void {
  if (space.units.length === 0) throw new SparqError('E_ARG', 'the search space has no units');
  if (space.levels.length < 2) throw new SparqError('E_ARG', `a level ladder needs at least 2 levels, found ${space.levels.length}`);
  for (const u of space.units) {
    if (u.levelCosts.length !== space.levels.length) {
      throw new SparqError('E_ARG', `unit ${u.name}: expected ${space.levels.length} level costs, found ${u.levelCosts.length}`, {
        details: { tensor: u.name, expected: space.levels.length, found: u.levelCosts.length },
      });
    }
    for (const c of u.levelCosts) {
      if (!Number.isSafeInteger(c)) {
        throw new SparqError('E_ARG', `unit ${u.name}: level costs must be safe integers (exact budgets), found ${c}`, {
          details: { tensor: u.name, found: c },
          hint: 'express costs in whole units (weights kept, bits, bytes, nanoseconds)',
        });
      }
    }
  }
}

/** Total cost of an assignment. */
export function assignmentCost(space: SearchSpace, a: Assignment): number {
  let s = 0;
  for (let i = 0; i < space.units.length; i++) s += space.units[i]!.levelCosts[a[i]!]!;
  return s;
}

/** The assignment with every unit at `level`. */
export function uniformAssignment(space: SearchSpace, level: number): Assignment {
  if (!(Number.isInteger(level) && level >= 0 && level < space.levels.length)) {
    throw new SparqError('E_ARG', `level ${level} out of range [0, ${space.levels.length})`);
  }
  return new Int32Array(space.units.length).fill(level);
}
