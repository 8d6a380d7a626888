/**
 * @sparq/format, browser build — everything in `@sparq/format` that runs
 * without Node: bit packing, the codecs, accounting, and the safetensors and
 * sparq-container readers over {@link ByteSource}s (bytes in memory, a
 * `Blob`/`File`, a URL). Bundlers pick this file through the package's
 * `browser` export condition; Node gets `index.ts`, which adds local-file
 * readers and the writers.
 * @packageDocumentation
 */

/** Random-access byte sources (in memory, `Blob`/`File`) and named sets of them. */
export { blobSource, bytesSource, byteSourceSet } from './byte-source';
export type { ByteSource, ByteSourceSet } from './byte-source';
/** Byte sources over HTTP(S) `fetch`. */
export { fetchSource, fetchSourceSet } from './fetch-source';
export type { FetchSourceOptions } from './fetch-source';

/** Lazily reads one safetensors file from a byte source: header up front, tensor bytes on demand. */
export { openSafetensorsSource } from './safetensors-source';
/** An open safetensors file returned by {@link openSafetensorsSource} (and `openSafetensors` in Node). */
export type { SafetensorsFile } from './safetensors-source';




/** Format limits and the header codec shared by the reader and the writer. */
export { MAX_HEADER_BYTES, encodeHeader, parseHeader, parseHeaderLength } from './safetensors-header';
/** Header-level types: where a tensor lives, a declared tensor, parsed and encoded headers. */
export type { TensorInfo, TensorEntry, ParsedHeader, EncodedHeader } from './safetensors-header';

/** The quantize-one-column seam that SparseGPT's joint mode calls (injected; pruners never import quantizers). */
export type { ColumnQuantizer } from './column-quantizer';

/** §1 bit packing of small unsigned codes (LSB-first, rows byte-aligned). */
export { packBits, unpackBits, packedRowBytes, readPackedCode, assertPackBits } from './pack-bits';
/** §2 group quantization codec. */
export { encodeQuantized, decodeQuantized, validateQuantized, packGroupStats, dequantizeGroups } from './quant-codec';
export type { QuantParts, PackedGroupStats } from './quant-codec';
/** §3 N:M sparsity: validation, compression, decompression. */
export { nmIndexBits, checkNMPattern, validateNM, selectNMSlots, compressNM, decompressNM, unpackNMIndices, validateNMMatrix, scatterNM } from './nm';
/** §4 N:M + quantized values. */
export { encodeNMQuant, decodeNMQuant, dequantizeNMQuantValues, validateNMQuant } from './nm-quant';
export type { NMQuantParts } from './nm-quant';
/** Unstructured sparsity as a bitmask + values. */
export { encodeBitmask, decodeBitmask } from './bitmask';
export type { BitmaskMatrix } from './bitmask';
/** NVIDIA 2:4 sparse-tensor-core metadata (logical mma.sp words, CUTLASS reordered layout). */
export { nvidia2to4LogicalMeta, cutlassReorderMeta, cutlassUnreorderMeta, toNvidia2to4, fromNvidia2to4 } from './nvidia-2to4';
export type { Nvidia2to4 } from './nvidia-2to4';
/** §5 outliers, §6 bilevel statistics, SpQR matrices. */
export {
  encodeOutliers,
  validateOutliers,
  applyOutliers,
  outlierColsWide,
  quantizeBilevelStat,
  decodeBilevelStat,
  validateBilevelStat,
  encodeSpqr,
  decodeSpqr,
  validateSpqr,
} from './spqr';
export type { SpqrParts } from './spqr';
/** Exact bits-per-weight accounting. */
export { BITS_ROLES, accountComponents, accountDense, accountPacked, accountModel, packedComponents } from './accounting';
export type { BitsRole, WeightAccounting, ModelAccounting, ComponentBytes, AccountOptions } from './accounting';
/** The sparq container: manifest types and the reader over any set of named byte sources. */
export {
  SPARQ_FORMAT_VERSION,
  SPARQ_MANIFEST_FILE,
  WEIGHT_META_PREFIX,
  SHARD_VERSION_KEY,
  componentSpecs,
  parseManifest,
  parseWeightRecord,
  checkFormatVersion,
} from './container-manifest';
export { openSparqContainerFrom } from './container-open';
export type { SparqContainer, ContainerEntry, StoredComponent, ReadOptions } from './container-open';
export type {
  ContainerManifest,
  ManifestWeight,
  TensorRecord,
  WeightRecord,
  ComponentSpec,
  PackedKind,
  ValueDType,
  StatParams,
} from './container-manifest';
/** GPTQ (AutoGPTQ / GPTQModel) int32 packing interop. */
export { exportGptq, importGptq } from './gptq-pack';
export type { GptqTensors, GptqZeroConvention, GptqExportOptions, GptqImportOptions, GptqImport } from './gptq-pack';

/** The dense float64 weight matrix the pruning and quantization solvers share. */
export type { WeightMatrix } from './weight-matrix';
