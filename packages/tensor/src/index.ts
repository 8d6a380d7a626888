/**
 * @sparq/tensor — tensors, dtypes, exact half-precision conversion, f64 linear
 * algebra, a seeded RNG, the Backend kernel contract and the reference kernels.
 * @packageDocumentation
 */
export { ERROR_CODES, SparqError, isSparqError, invariant } from './errors';
export type { ErrorCode, ErrorDetails, SparqErrorOptions } from './errors';
export {
  DTYPES,
  dtypeBytes,
  isFloatDType,
  allocStorage,
  storageFromBuffer,
  dtypeFromSafetensors,
  dtypeToSafetensors,
  isDType,
} from './dtype';
export type { DType, Storage, StorageMap } from './dtype';
export {
  f16ToF32,
  f32ToF16,
  bf16ToF32,
  f32ToBf16,
  f16ArrayToF32,
  bf16ArrayToF32,
  f32ArrayToF16,
  f32ArrayToBf16,
} from './half';
export { Tensor, shapeSize, toF32Array, assertShape, isHalfPrecision } from './tensor';
export { createTableBackend, INT8_ACT_MAX_BLOCK, PACKED_MATMUL_KERNEL, MODEL_KERNELS } from './backend';
export type {
  NoAttrs,
  DenseWeightDType,
  PackedMatmulInputs,
  Backend,
  KernelSpecs,
  KernelName,
  KernelInputs,
  KernelAttrs,
  KernelOutput,
  KernelImpl,
  KernelTable,
  TableBackendHooks,
} from './backend';
export {
  matmulDenseRef,
  matmulDenseShape,
  rmsNormRef,
  rmsNormShape,
  ropeRef,
  ropeShape,
  attentionRef,
  attentionShape,
  siluMulRef,
  siluMulShape,
  referenceKernels,
  createReferenceBackend,
} from './reference-kernels';
export {
  packedRowBytes,
  nmIndexBits,
  unpackBits,
  validatePacked,
  decodeQuantized,
  decodeNM,
  decodeNMQuant,
  decodeBilevelStat,
  decodeSpqr,
  decodePacked,
  matmulPackedRef,
  matmulQuantRef,
  matmulNMRef,
  matmulNMQuantRef,
  matmulSpqrRef,
} from './reference-packed';
export { Rng, createRng } from './rng';
export {
  cholesky,
  choleskyInverse,
  solveLower,
  solveUpper,
  solveLowerTransposed,
  choleskyUpperOfInverse,
} from './linalg';
export type { CholeskyOptions } from './linalg';
export { CalibrationStats } from './calibration-stats';
export type {
  PackedBits,
  QuantizedMatrix,
  NMMatrix,
  NMQuantMatrix,
  OutlierCsr,
  BilevelStat,
  SpqrMatrix,
  PackedMatrix,
} from './packed';
