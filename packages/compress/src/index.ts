/**
 * @sparq/compress — compression recipes, calibration data and the
 * layer-by-layer driver that prunes and quantizes a model block by block
 * (SparseGPT / GPTQ sequential protocol) into a loadable output folder, with
 * resume after interruption.
 * @packageDocumentation
 */

/** Recipes: the validated JSON/YAML document of stages, targets, overrides and calibration. */
export { parseRecipe, validateRecipe, recipePattern, RECIPE_BITS } from './recipe';
export type {
  Recipe,
  Stage,
  PruneStage,
  QuantizeStage,
  JointStage,
  SpqrSettings,
  LayerOverride,
  CalibrationSettings,
  PruneMethod,
  QuantMethod,
  TieRule,
} from './recipe';
/** Name patterns (glob or /regex/) over HF linear names. */
export { compileNamePattern } from './name-match';
export type { NameMatcher } from './name-match';
/** A recipe resolved against a model's linears (overrides applied, shapes checked). */
export { planCompression } from './plan';
export type { CompressionPlan, LinearPlan, LinearShape, PrunePlan, QuantPlan } from './plan';

/** Calibration sequences from a text file or sampled from the model itself. */
export { sampleTextCalibration, sampleSelfCalibration } from './calibration';
export type { CalibrationData, CalibrationOptions } from './calibration';

/** One linear through its stages (the solver composition the driver uses). */
export { solveLinear, describePlan, decodeQuantParts } from './solve';
export type { LinearStats, SolveOptions, SolvedLinear } from './solve';
/** A compressed linear, its serialisation and the H-based reconstruction error. */
export { relativeReconstructionError, serializeLinear, deserializeLinear } from './compressed-linear';
export type { CompressedLinear, QuantParts } from './compressed-linear';
export { spqrMatrixOf, decodeSpqrLinear } from './spqr-parts';

/** The driver. */
export { compressModel, buildCalibration, modelLinears } from './compress';
export type { CompressOptions, CompressReport, CompressProgress } from './compress';
export type { LinearReport } from './work-dir';
/** Output writers: the sparq container (packed) and the HF folder of decoded f32 weights. */
export { hfFolderWriter } from './output';
export { sparqContainerWriter, COMPRESS_TOOL_VERSION } from './output-container';
/** Packed encoding and exact bits/weight of a compressed linear. */
export { packLinear, accountLinear } from './pack';
/** The CLI's shorthand flags as a recipe. */
export { recipeFromFlags, withCalibrationFlags, hasStageFlags } from './flags';
export type { RecipeFlags } from './flags';
export type { ModelWriter, OutputJob } from './output';
export { llamaHfConfig } from './hf-config-out';
