/**
 * EvoPress's level-switch mutation: move one unit to another level and
 * compensate with another unit whose level change has exactly the opposite
 * cost, so every offspring stays on the budget with no repair step.
 */
import type { Rng } from '@sparq/tensor';
import type { Assignment, SearchSpace } from './space';

/**
 * Applies one budget-preserving level switch to `a` in place and returns true,
 * or returns false when none was found in `maxTries` draws (e.g. every unit is
 * at an end of its ladder). With equal-size units and a uniform ladder this is
 * EvoPress's "raise one unit's level by one step, lower another's by one";
 * with mixed sizes the partner is drawn among units whose step costs match
 * exactly, so the total cost never changes.
 */
export function levelSwitch(space: SearchSpace, a: Assignment, rng: Rng, maxTries = 64): boolean {
  const U = space.units.length;
  const L = space.levels.length;
  for (let t = 0; t < maxTries; t++) {
    const i = rng.int(U);
    const ui = space.units[i]!;
    const li = a[i]!;
    // One step up or down (EvoPress's step), direction at random.
    const dir = rng.float() < 0.5 ? -1 : 1;
    const ni = li + dir;
    if (ni < 0 || ni >= L) continue;
    const delta = ui.levelCosts[ni]! - ui.levelCosts[li]!;
    // Partners: any other unit and level whose change cancels delta exactly.
    const partners: [number, number][] = [];
    for (let j = 0; j < U; j++) {
      if (j === i) continue;
      const uj = space.units[j]!;
      const cj = uj.levelCosts[a[j]!]!;
      for (let l = 0; l < L; l++) if (l !== a[j] && uj.levelCosts[l]! - cj === -delta) partners.push([j, l]);
    }
    if (partners.length === 0) continue;
    const [j, l] = partners[rng.int(partners.length)]!;
    a[i] = ni;
    a[j] = l;
    return true;
  }
  return false;
}
