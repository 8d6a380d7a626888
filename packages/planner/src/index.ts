/**
 * @sparq/planner — per-layer compression levels under an exact budget:
 * EvoPress's evolutionary search with budget-preserving level switches and
 * multi-step selection, plus uniform and OWL baselines and an SVG report.
 * The fitness function is injected (KL divergence to the dense model on
 * calibration tokens, from the compress/lm layers).
 * @packageDocumentation
 */

/** Units, level ladders and candidate plans. */
export { assignmentCost, uniformAssignment, validateSpace } from './space';
export type { Assignment, PlanUnit, SearchSpace } from './space';

/** Exact budgets. */
export { assertBudget, budgetOfLevel, weightedAverage } from './budget';
export type { Budget } from './budget';

/** EvoPress's budget-preserving level-switch mutation. */
export { levelSwitch } from './mutation';

/** The (1 + λ) search with multi-step selection. */
export { evoPress } from './evopress';
export type { EvoPressOptions, EvoPressResult, FitnessFn, SearchState, SelectionStage } from './evopress';

/** OWL baseline and exact-budget repair of rounded allocations. */
export { outlierRatio, owlAssignment, owlSparsities } from './owl';
export { snapToBudget } from './snap';
export type { Preference } from './snap';

/** SVG report of a plan and its fitness curve. */
export { planSvg } from './report-svg';
export type { PlanSvgOptions } from './report-svg';

/** Level ladders and exact costs. */
export { keptCosts, parseLadder } from './ladder';
export type { Ladder, Level } from './ladder';
export { outlierRatioOf } from './owl';

/** The levels database (one sparq container per level) and its lazy reader. */
export { buildLevelDatabase, databaseSpace, levelRecipe, LevelDatabase } from './database';
export type { BuildDatabaseOptions, DatabaseManifest } from './database';

/** KL-divergence fitness against the dense model. */
export { KlFitness } from './fitness';

/** Plan files and the recipe that applies one. */
export { planRecipe, readPlan, writePlan } from './plan-file';
export type { PlanFile } from './plan-file';

/** `sparq plan` as a library call. */
export { collectMeanSquares, fillToBudget, parseBudget, planModel, sampleFitness } from './plan-model';
export type { CostModel, FitnessFactory, PlanModelOptions, PlanModelResult } from './plan-model';
