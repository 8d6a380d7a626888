/**
 * The plan file `sparq plan` writes and `sparq compress --plan` applies: the
 * level of every unit, the budget it meets, and how it was found.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { validateRecipe, type LayerOverride, type Recipe } from '@sparq/compress';
import { SparqError } from '@sparq/tensor';
import { parseLadder } from './ladder';

/** A saved plan. */
export interface PlanFile {
  format: 'sparq-plan';
  version: 1;
  model: string;
  ladder: string;
  /** `evopress`, `uniform` or `owl`. */
  method: string;
  /** The base recipe the levels override. */
  recipe: Recipe;
  budget: { label: string; total: number };
  /** Achieved: cost (equals budget.total), parameter-weighted average sparsity and stored bits per weight where known. */
  achieved: { cost: number; averageSparsity: number; bitsPerWeight?: number };
  units: { name: string; level: string }[];
  fitness?: { metric: 'kl' | 'nll'; value: number; history: number[]; evaluations: number; seconds: number };
}

/** Reads and checks a plan file. */
export async function readPlan(file: string): Promise<PlanFile> {
  let p: PlanFile;
  try {
    p = JSON.parse(await readFile(file, 'utf8')) as PlanFile;
  } catch (e) {
    throw new SparqError('E_IO', `cannot read plan ${file}: ${(e as Error).message}`, { details: { file }, cause: e });
  }
  if (p.format !== 'sparq-plan' || p.version !== 1 || !Array.isArray(p.units)) {
    throw new SparqError('E_FORMAT_VERSION', `${file} is not a version-1 sparq plan`, { details: { file, expected: 'format "sparq-plan", version 1', found: { format: p.format, version: p.version } } });
  }
  return p;
}

/** Writes a plan atomically. */
export async function writePlan(file: string, p: PlanFile): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(p, null, 2)}\n`);
  await rename(tmp, file);
}

/** The recipe that applies a plan: the base recipe plus one override per unit (its level's pattern or bits, or skip for dense). */
export function planRecipe(p: PlanFile): Recipe {
  const ladder = parseLadder(p.ladder);
  const byLabel = new Map(ladder.levels.map((l) => [l.label, l]));
  const overrides: LayerOverride[] = p.units.map((u) => {
    const l = byLabel.get(u.level);
    if (!l) throw new SparqError('E_CONFIG', `plan: unit ${u.name} has level "${u.level}", not on the ladder ${p.ladder}`, { details: { tensor: u.name, found: u.level } });
    if (l.dense) return { match: u.name, skip: true };
    return ladder.kind === 'bits' ? { match: u.name, bits: l.bits! } : { match: u.name, pattern: l.pattern! };
  });
  return validateRecipe({ ...p.recipe, overrides: [...p.recipe.overrides, ...overrides] });
}
