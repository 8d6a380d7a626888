/**
 * `planModel`: the whole of `sparq plan` as a library call — build (or reuse)
 * the levels database, fix the budget, then produce a plan by EvoPress, the
 * uniform baseline or OWL, and write it with its SVG report.
 */
import { sampleSelfCalibration, sampleTextCalibration, type CalibrationData, type Recipe } from '@sparq/compress';
import type { CausalLM, Tokenizer } from '@sparq/lm';
import { SparqError } from '@sparq/tensor';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { assertBudget, type Budget, weightedAverage } from './budget';
import { buildLevelDatabase, databaseSpace, LevelDatabase } from './database';
import { evoPress, type FitnessFn, type SearchState, type SelectionStage } from './evopress';
import { KlFitness } from './fitness';
import { parseLadder, type Ladder, type Level } from './ladder';
import { outlierRatioOf, owlAssignment } from './owl';
import { writePlan, type PlanFile } from './plan-file';
import { planSvg } from './report-svg';
import { snapToBudget } from './snap';
import { assignmentCost, uniformAssignment, validateSpace, type Assignment, type SearchSpace } from './space';

/**
 * A pluggable cost for budgets other than the stored bits / kept weights of
 * the database: e.g. predicted latency of each layer at each level from a
 * backend cost model (cycles of the FPGA simulator, a CPU kernel table).
 * Costs must be non-negative integers so budgets stay exact.
 */
export interface CostModel {
  /** Shown in plans and reports, e.g. `fpga decode cycles`. */
  name: string;
  cost(unit: { name: string; rows: number; cols: number }, level: Level): number;
}

/**
 * Builds the fitness of a search from the levels database folder and the
 * fitness sequences — the hook through which an application spreads
 * evaluations over worker threads (each worker holds its own model and
 * database reader). Results must equal {@link KlFitness}'s.
 */
export type FitnessFactory = (ctx: { db: string; sequences: number[][]; metric: 'kl' | 'nll' }) => Promise<{ fn: FitnessFn; close(): Promise<void> }>;

/** Options of {@link planModel}. */
export interface PlanModelOptions {
  /** `kl` (default): KL divergence to the dense model; `nll`: the candidate's mean NLL (log-perplexity) of the fitness tokens. */
  fitnessMetric?: 'kl' | 'nll';
  /** Parallel fitness (e.g. worker threads); default: {@link KlFitness} on `model`, sequentially. */
  fitnessFactory?: FitnessFactory;
  /** Replaces the database's costs (stored bits / kept weights) by this model's, e.g. predicted latency. */
  costModel?: CostModel;
  model: CausalLM;
  modelPath: string;
  tokenizer: Tokenizer;
  tokenizerFiles?: readonly string[];
  /** Base recipe (method, calibration); levels override its pattern or bits. */
  recipe: Recipe;
  ladder: string;
  /** `50%` (average sparsity; sparsity / N:M ladders) or a level label (`w3`, `2:4`, `60%`): the cost of that level everywhere. */
  budget: string;
  method: 'evopress' | 'uniform' | 'owl';
  /** Levels database folder (built if missing, reused if it matches). */
  db: string;
  out: string;
  /** SVG report path (optional). */
  report?: string;
  generations?: number;
  offspring?: number;
  stages?: SelectionStage[];
  seed?: number;
  /** Fitness sequences: count and length (default 16 × 128), sampled from `fitnessText` or the model itself. */
  fitnessSamples?: number;
  fitnessSeqlen?: number;
  fitnessText?: string;
  /** OWL: outlier threshold M (5) and band λ (0.08). */
  owl?: { threshold?: number; lambda?: number };
  onProgress?(line: string): void;
}

/** What {@link planModel} returns. */
export interface PlanModelResult {
  plan: PlanFile;
  space: SearchSpace;
  assignment: Assignment;
  evaluationsPerSecond?: number;
}

/**
 * The costliest assignment whose cost is ≤ `limit`, greedily: every unit at its
 * cheapest level, then the cheapest single-level upgrades that still fit, one
 * at a time (ties: lower unit index). Throws when even the cheapest plan does not fit.
 */
export function fillToBudget(space: SearchSpace, limit: number): Assignment {
  const L = space.levels.length;
  const cheapest = space.units.map((u) => u.levelCosts.indexOf(Math.min(...u.levelCosts)));
  const a = Int32Array.from(cheapest);
  let cost = assignmentCost(space, a);
  if (cost > limit) {
    throw new SparqError('E_ARG', `the budget ${limit} is below the cheapest plan (${cost})`, { details: { expected: `≥ ${cost}`, found: limit } });
  }
  for (;;) {
    let best: { i: number; l: number; d: number } | undefined;
    space.units.forEach((u, i) => {
      for (let l = 0; l < L; l++) {
        const d = u.levelCosts[l]! - u.levelCosts[a[i]!]!;
        if (d > 0 && cost + d <= limit && (!best || d < best.d)) best = { i, l, d };
      }
    });
    if (!best) return a;
    a[best.i] = best.l;
    cost += best.d;
  }
}

/** The budget named by `spec` on a database's space. */
export function parseBudget(spec: string, ladder: Ladder, space: SearchSpace): Budget {
  const at = ladder.levels.findIndex((l) => l.label === spec);
  if (at >= 0) {
    let total = 0;
    for (const u of space.units) total += u.levelCosts[at]!;
    return { total, label: `uniform ${spec}` };
  }
  // Bits ladders: an average bits/weight or a total size; the plan starts at the largest reachable cost ≤ it.
  const bits = /^(\d+(?:\.\d+)?)\s*bits$/.exec(spec);
  const size = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)$/.exec(spec);
  if ((bits || size) && ladder.kind === 'bits') {
    const params = space.units.reduce((s, u) => s + u.params, 0);
    const unit: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
    const total = bits ? Math.floor(Number(bits[1]) * params) : Math.floor(Number(size![1]) * unit[size![2]!]! * 8);
    return { total, label: bits ? `at most ${bits[1]} bits/weight` : `at most ${size![1]} ${size![2]}`, atMost: true };
  }
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(spec);
  if (pct && ladder.kind === 'sparsity') {
    const keep = 100 - Number(pct[1]);
    if (!Number.isInteger(keep)) throw new SparqError('E_ARG', `budget ${spec}: use a whole percent for exact budgets`);
    return { total: space.units.reduce((s, u) => s + u.params * keep, 0), label: `average sparsity ${spec}` };
  }
  throw new SparqError('E_ARG', `budget "${spec}" is neither a level of the ladder (${ladder.levels.map((l) => l.label).join(', ')}), an average sparsity like 50% (sparsity ladders) nor a size like 3.5bits or 120KB (bits ladders)`, {
    details: { found: spec, expected: ladder.levels.map((l) => l.label) },
  });
}

/**
 * The fitness sequences: `samples` × `seqlen` tokens from `text` or sampled
 * from the (dense) model, with the recipe's calibration seed + 1 so they differ
 * from the database's calibration data — EvoPress scores on held-out tokens.
 */
export async function sampleFitness(model: CausalLM, tokenizer: Tokenizer, recipe: Recipe, samples: number, seqlen: number, text?: string): Promise<CalibrationData> {
  const seed = recipe.calibration.seed + 1;
  return text
    ? sampleTextCalibration(tokenizer, await readFile(text, 'utf8'), { samples, seqlen, seed }, text, model.config.maxPositions)
    : sampleSelfCalibration(model, tokenizer, { samples, seqlen, seed });
}

/** Σ x² / n of every linear's input over `sequences`, by a dense block-by-block walk. */
export async function collectMeanSquares(model: CausalLM, sequences: readonly (readonly number[])[]): Promise<Map<string, Float64Array>> {
  const sums = new Map<string, { sq: Float64Array; n: number }>();
  let h = await model.embed(sequences.map((s) => [...s]));
  for (let b = 0; b < model.numBlocks; b++) {
    h = await model.runBlock(b, h, {
      onLinearInput: (name, x) => {
        const cols = x.shape[1]!;
        const rows = x.shape[0]!;
        let e = sums.get(name);
        if (!e) sums.set(name, (e = { sq: new Float64Array(cols), n: 0 }));
        for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) e.sq[j] += x.data[r * cols + j]! ** 2;
        e.n += rows;
      },
    });
  }
  return new Map([...sums].map(([k, v]) => [k, v.sq.map((s) => s / v.n)]));
}

/** Runs `sparq plan`. */
export async function planModel(o: PlanModelOptions): Promise<PlanModelResult> {
  const say = o.onProgress ?? (() => {});
  const ladder = parseLadder(o.ladder);
  const t0 = performance.now();
  const manifest = await buildLevelDatabase({
    model: o.model,
    modelPath: o.modelPath,
    tokenizer: o.tokenizer,
    ...(o.tokenizerFiles ? { tokenizerFiles: o.tokenizerFiles } : {}),
    recipe: o.recipe,
    ladder,
    dir: o.db,
    onProgress: (p) => {
      if (p.phase === undefined) say(`levels database: level ${p.level} (${p.index + 1}/${p.levels})`);
    },
  });
  let space = databaseSpace(manifest);
  if (o.costModel) {
    const cm = o.costModel;
    space = { ...space, units: space.units.map((u, i) => ({ ...u, levelCosts: ladder.levels.map((l) => cm.cost(manifest.units[i]!, l)) })) };
    validateSpace(space);
  }
  if (o.costModel && !ladder.levels.some((l) => l.label === o.budget)) {
    throw new SparqError('E_ARG', `with the ${o.costModel.name} cost model the budget must be a ladder level (its uniform cost), found "${o.budget}"`, {
      details: { found: o.budget, expected: ladder.levels.map((l) => l.label) },
    });
  }
  const budget = parseBudget(o.budget, ladder, space);
  if (o.costModel) budget.label += ` (${o.costModel.name})`;
  let fitted: Assignment | undefined;
  if (budget.atMost) {
    // Start at the largest cost that fits, then search on exactly that cost.
    const fit = fillToBudget(space, budget.total);
    fitted = fit;
    budget.label += ` (plans cost ${assignmentCost(space, fit)})`;
    budget.total = assignmentCost(space, fit);
    budget.atMost = false;
  }
  const db = new LevelDatabase(o.db, manifest, o.model);
  const seqlen = o.fitnessSeqlen ?? Math.min(128, o.model.config.maxPositions);
  // The model must hold the source weights (a previous, interrupted search may have left a candidate in it) before
  // it samples the fitness tokens and computes the dense reference.
  for (let b = 0; b < o.model.numBlocks; b++) o.model.unloadBlock(b, { discardOverrides: true });
  const calib = await sampleFitness(o.model, o.tokenizer, o.recipe, o.fitnessSamples ?? 16, seqlen, o.fitnessText);

  // Start: the uniform plan at the closest level, repaired onto the budget exactly.
  const meanCost = budget.total / space.units.length;
  let start = 0;
  const avgAt = (l: number) => space.units.reduce((s, u) => s + u.levelCosts[l]!, 0) / space.units.length;
  for (let l = 1; l < space.levels.length; l++) if (Math.abs(avgAt(l) - meanCost) < Math.abs(avgAt(start) - meanCost)) start = l;
  const uniform = fitted ?? snapToBudget(space, budget, uniformAssignment(space, start));

  let assignment: Assignment;
  let fitness: PlanFile['fitness'];
  let evalsPerSecond: number | undefined;
  if (o.method === 'uniform') assignment = uniform;
  else if (o.method === 'owl') {
    if (ladder.kind !== 'sparsity') throw new SparqError('E_ARG', 'the OWL baseline allocates sparsity: use a sparsity ladder');
    const ms = await collectMeanSquares(o.model, calib.ids);
    // OWL's ratio is per decoder block, over all of the block's linears together.
    const blockOf = (name: string) => /layers\.(\d+)\./.exec(name)?.[1] ?? name;
    const parts = new Map<string, { w: Float32Array; rows: number; cols: number; meanSquare: Float64Array }[]>();
    for (const u of manifest.units) {
      const w = (await o.model.source.read(`${u.name}.weight`)).toF32();
      const list = parts.get(blockOf(u.name)) ?? [];
      list.push({ w: w.data, rows: u.rows, cols: u.cols, meanSquare: ms.get(u.name)! });
      parts.set(blockOf(u.name), list);
    }
    const blockRatio = new Map([...parts].map(([b, p]) => [b, outlierRatioOf(p, o.owl?.threshold ?? 5)]));
    const ratios = manifest.units.map((u) => blockRatio.get(blockOf(u.name))!);
    const target = 1 - budget.total / space.units.reduce((s, u) => s + u.params * 100, 0);
    assignment = owlAssignment(space, budget, ratios, target, ladder.levels.map((l) => l.sparsity), o.owl?.lambda ?? 0.08);
    say(`OWL: block outlier ratios ${[...blockRatio.values()].map((r) => (100 * r).toFixed(2) + '%').join(' ')}`);
  } else {
    const totalTokens = calib.ids.reduce((a, q) => a + q.length, 0);
    const pool = o.fitnessFactory ? await o.fitnessFactory({ db: o.db, sequences: calib.ids, metric: o.fitnessMetric ?? 'kl' }) : undefined;
    const fitnessFn = pool ? pool.fn : (await KlFitness.create(o.model, db, calib.ids, o.fitnessMetric ?? 'kl')).fn();
    const ts = performance.now();
    const stages = o.stages ?? [
      { tokens: Math.max(seqlen, Math.floor(totalTokens / 8)), survivors: 4 },
      { tokens: totalTokens, survivors: 1 },
    ];
    // Resumable: the search state after each generation lives beside the plan until the search finishes.
    const statePath = `${o.out}.search.json`;
    const searchKey = JSON.stringify({ metric: o.fitnessMetric ?? 'kl', model: o.modelPath, ladder: o.ladder, budget: budget.total, seed: o.seed ?? 0, offspring: o.offspring ?? 16, stages, costs: space.units.map((u) => u.levelCosts) });
    let resume: SearchState | undefined;
    if (existsSync(statePath)) {
      const saved = JSON.parse(await readFile(statePath, 'utf8')) as { key: string; state: SearchState };
      if (saved.key === searchKey) {
        resume = saved.state;
        say(`resuming the search from generation ${resume.generation} (${statePath})`);
      }
    }
    let r: Awaited<ReturnType<typeof evoPress>>;
    try {
      r = await evoPress({
        space,
        budget,
        initial: uniform,
        fitness: fitnessFn,
        generations: o.generations ?? 50,
        offspring: o.offspring ?? 16,
        stages,
        seed: o.seed ?? 0,
        ...(resume ? { resume } : {}),
        onGeneration: async (s: SearchState) => {
          // Persist before reporting, so an interruption at any point resumes from the last finished generation.
          const tmp = `${statePath}.tmp-${process.pid}`;
          await writeFile(tmp, JSON.stringify({ key: searchKey, state: s }));
          await rename(tmp, statePath);
          say(`generation ${s.generation}/${o.generations ?? 50}: best ${(o.fitnessMetric ?? 'kl').toUpperCase()} ${s.parentFitness.toPrecision(5)} (${s.evaluations} evaluations)`);
        },
      });
    } finally {
      await pool?.close();
    }
    await rm(statePath, { force: true });
    const secs = (performance.now() - ts) / 1000;
    evalsPerSecond = r.state.evaluations / secs;
    assignment = r.best;
    fitness = { metric: o.fitnessMetric ?? 'kl', value: r.fitness, history: r.state.history, evaluations: r.state.evaluations, seconds: secs };
    // Leave the model on the source weights for the caller.
    for (let b = 0; b < o.model.numBlocks; b++) o.model.unloadBlock(b, { discardOverrides: true });
  }
  await db.close();
  assertBudget(space, assignment, budget);
  const plan: PlanFile = {
    format: 'sparq-plan',
    version: 1,
    model: o.modelPath,
    ladder: o.ladder,
    method: o.method,
    recipe: o.recipe,
    budget,
    achieved: {
      cost: assignmentCost(space, assignment),
      averageSparsity: weightedAverage(space, assignment, (l) => ladder.levels[l]!.sparsity),
      ...(ladder.kind === 'bits' ? { bitsPerWeight: assignmentCost(space, assignment) / space.units.reduce((s, u) => s + u.params, 0) } : {}),
    },
    units: space.units.map((u, i) => ({ name: u.name, level: space.levels[assignment[i]!]! })),
    ...(fitness ? { fitness } : {}),
  };
  await writePlan(o.out, plan);
  if (o.report) {
    await writeFile(o.report, planSvg(space, assignment, { title: `${o.method} plan · ${budget.label} · ${o.ladder}`, ...(fitness ? { history: fitness.history } : {}) }));
  }
  say(`plan written to ${o.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { plan, space, assignment, ...(evalsPerSecond !== undefined ? { evaluationsPerSecond: evalsPerSecond } : {}) };
}



