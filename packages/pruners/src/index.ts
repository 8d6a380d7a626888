/**
 * @sparq/pruners — pruning solvers for single linear layers: magnitude, Wanda
 * and SparseGPT (optionally fused with quantization), unstructured or any N:M
 * pattern, plus pattern parsing, per-layer overrides and mask verification.
 * @packageDocumentation
 */
export type { WeightMatrix, PruneResult } from './weight';
export type { SparsityPattern, PatternOverride, PatternPlan, VerifyPatternOptions } from './pattern';
export { parsePattern, formatPattern, checkPattern, resolvePattern, verifyPattern, unstructuredTarget, MAX_NM_GROUP } from './pattern';
export type { TieRule } from './select';
export type { MagnitudeOptions } from './magnitude';
export { magnitudePrune } from './magnitude';
export { wandaPrune } from './wanda';
export type { SparseGptOptions, SparseGptFactor, PrepareSparseGptOptions } from './sparsegpt';
export { sparseGpt, prepareSparseGpt } from './sparsegpt';
export type { PreparedHessian, InverseFactorOptions } from './inverse-factor';
export { prepareHessian, inverseUpperFactor, inverseUpperFactorTransposed } from './inverse-factor';
export type { SubMulNT } from './gemm';
export { subMulNT } from './gemm';
