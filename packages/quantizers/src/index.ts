/**
 * @sparq/quantizers — layer-wise weight quantization solvers: round-to-nearest,
 * GPTQ and SpQR, plus the column quantizer SparseGPT's joint prune + quantize
 * pass injects. All solvers work on float64 row-major weights and return
 * dequantized weights together with the integer codes and statistics the
 * packed format stores (`docs/format.md` §2, §5, §6).
 * @packageDocumentation
 */
export type { WeightMatrix, QuantSpec, QuantResult, ClipSearchOptions } from './types';
export { roundHalfEven } from './round';
export { rtnQuantize } from './rtn';
export type { RtnOptions } from './rtn';
export { prepareHessian } from './hessian';
export type { PrepareHessianOptions, PreparedHessian } from './hessian';
export { gptqQuantize } from './gptq';
export type { GptqOptions } from './gptq';
export { createColumnQuantizer } from './column-quantizer';
export type { ColumnQuantizerResult } from './column-quantizer';
export { spqrQuantize, spqrAverageBits } from './spqr';
export type { SpqrOptions, SpqrResult, SpqrOutliers } from './spqr';
export type { BilevelStatValues } from './bilevel';
