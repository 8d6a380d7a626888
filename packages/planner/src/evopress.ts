/**
 * EvoPress (Sieberling et al., 2024): a (1 + λ) evolutionary search over
 * per-unit compression levels. Each generation draws λ offspring of the
 * current parent by budget-preserving level switches, ranks them in stages
 * (many candidates on few calibration tokens, the best few on more), and
 * keeps the fittest — the parent included, so fitness never gets worse.
 */
import { createRng, SparqError } from '@sparq/tensor';
import { assertBudget, type Budget } from './budget';
import { levelSwitch } from './mutation';
import { validateSpace, type Assignment, type SearchSpace } from './space';

/** One selection stage: score the candidates on `tokens` calibration tokens and keep the best `survivors`. */
export interface SelectionStage {
  tokens: number;
  survivors: number;
}

/**
 * Fitness of candidates (lower is better, e.g. KL divergence to the dense
 * model) measured on `stage.tokens` tokens. Receives a batch so an
 * implementation can spread it over worker threads. Must be deterministic
 * for a given (assignment, stage).
 */
export type FitnessFn = (candidates: readonly Assignment[], stage: SelectionStage) => Promise<number[]>;

/** The search state after a generation: JSON-serialisable, enough to resume. */
export interface SearchState {
  generation: number;
  parent: number[];
  /** Parent fitness on the last stage's tokens. */
  parentFitness: number;
  evaluations: number;
  /** Parent fitness after each generation (the fitness curve). */
  history: number[];
}

/** Options of {@link evoPress}. */
export interface EvoPressOptions {
  space: SearchSpace;
  budget: Budget;
  /** Starting plan; must meet the budget exactly (e.g. the uniform plan). */
  initial: Assignment;
  fitness: FitnessFn;
  generations: number;
  /** Offspring per generation (λ). Default 16. */
  offspring?: number;
  /** Level switches per offspring are drawn in [1, maxMutations]. Default 3. */
  maxMutations?: number;
  /**
   * Stages of multi-step selection, increasing tokens, decreasing survivors;
   * the last stage keeps 1. Default: all offspring on 1 stage of 2048 tokens.
   */
  stages?: SelectionStage[];
  seed?: number;
  /** Continue from a saved state (same space, budget, seed and stages). */
  resume?: SearchState;
  /** Called after every generation with the state to save, for resumption and progress. */
  onGeneration?(state: SearchState): void | Promise<void>;
}

/** What {@link evoPress} returns. */
export interface EvoPressResult {
  best: Assignment;
  fitness: number;
  state: SearchState;
}

/** A per-generation seed: generation g's randomness depends only on (seed, g), so a resumed run draws what an uninterrupted one would. */
function generationSeed(seed: number, g: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(g + 1, 0x85ebca6b)) | 0;
}

function key(a: Assignment): string {
  return a.join(',');
}

/** Runs the search. Deterministic for a seed (given a deterministic fitness). */
export async function evoPress(o: EvoPressOptions): Promise<EvoPressResult> {
  validateSpace(o.space);
  const lambda = o.offspring ?? 16;
  const maxMut = o.maxMutations ?? 3;
  const stages = o.stages ?? [{ tokens: 2048, survivors: 1 }];
  if (!(Number.isInteger(lambda) && lambda >= 1)) throw new SparqError('E_ARG', `offspring must be an integer ≥ 1, found ${lambda}`);
  if (!(Number.isInteger(maxMut) && maxMut >= 1)) throw new SparqError('E_ARG', `maxMutations must be an integer ≥ 1, found ${maxMut}`);
  if (stages.length === 0 || stages[stages.length - 1]!.survivors !== 1) {
    throw new SparqError('E_ARG', 'the last selection stage must keep exactly 1 survivor');
  }
  const last = stages[stages.length - 1]!;
  assertBudget(o.space, o.initial, o.budget);

  let state: SearchState;
  if (o.resume) {
    state = { ...o.resume, parent: [...o.resume.parent], history: [...o.resume.history] };
    assertBudget(o.space, Int32Array.from(state.parent), o.budget);
  } else {
    const [f] = await o.fitness([o.initial], last);
    state = { generation: 0, parent: Array.from(o.initial), parentFitness: f!, evaluations: 1, history: [f!] };
  }

  for (let g = state.generation; g < o.generations; g++) {
    const rng = createRng(generationSeed(o.seed ?? 0, g));
    const parent = Int32Array.from(state.parent);
    // Offspring, without duplicates of each other or of the parent.
    const seen = new Set([key(parent)]);
    let pool: Assignment[] = [];
    for (let tries = 0; pool.length < lambda && tries < lambda * 20; tries++) {
      const child = parent.slice();
      const k = 1 + rng.int(maxMut);
      let ok = true;
      for (let m = 0; m < k && ok; m++) ok = levelSwitch(o.space, child, rng);
      if (!ok || seen.has(key(child))) continue;
      seen.add(key(child));
      pool.push(child);
    }
    if (pool.length === 0) {
      throw new SparqError('E_ARG', 'no budget-preserving mutation exists from the current plan', {
        hint: 'the ladder or unit costs leave no pair of moves with opposite cost; use a finer ladder',
      });
    }
    // Multi-step selection: cheap scores prune the pool before expensive ones.
    let scores: number[] = [];
    for (const st of stages) {
      scores = await o.fitness(pool, st);
      state.evaluations += pool.length;
      const order = pool.map((_, i) => i).sort((x, y) => scores[x]! - scores[y]! || x - y);
      const keep = order.slice(0, Math.min(st.survivors, pool.length));
      pool = keep.map((i) => pool[i]!);
      scores = keep.map((i) => scores[i]!);
    }
    // Elitism: the parent's last-stage fitness is known; the child must beat it.
    if (scores[0]! < state.parentFitness) {
      state.parent = Array.from(pool[0]!);
      state.parentFitness = scores[0]!;
    }
    state.generation = g + 1;
    state.history.push(state.parentFitness);
    assertBudget(o.space, Int32Array.from(state.parent), o.budget);
    await o.onGeneration?.({ ...state, parent: [...state.parent], history: [...state.history] });
  }
  return { best: Int32Array.from(state.parent), fitness: state.parentFitness, state };
}
