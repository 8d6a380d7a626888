/**
 * @sparq/format — the compressed representation and on-disk formats: bit
 * packing, group quantization, N:M (+ quant), SpQR outliers and bilevel
 * statistics, NVIDIA 2:4 metadata, GPTQ interop, bits-per-weight accounting,
 * the sparq container, and safetensors I/O (lazy reader, sharded model view,
 * atomic streaming writer). Byte layouts: docs/format.md.
 * @packageDocumentation
 */

/** Lazily reads one safetensors file: header up front, tensor bytes on demand. See {@link openSafetensors}. */
export { openSafetensors } from './safetensors-read';
/** An open safetensors file returned by {@link openSafetensors}. */
export type { SafetensorsFile } from './safetensors-read';

/** Opens a model folder (index, single file or all `*.safetensors`) as one lazy tensor store. */
export { openSafetensorsModel, SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE } from './safetensors-model';
/** The multi-file view returned by {@link openSafetensorsModel}. */
export type { SafetensorsModel } from './safetensors-model';

/** Atomic writers: all tensors at once, or streamed one tensor at a time. */
export { writeSafetensors, writeSafetensorsStreaming } from './safetensors-write';

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
/** The sparq container: manifest types, writer, reader. */
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
export { createContainerWriter, packedToComponents, DEFAULT_MAX_SHARD_BYTES } from './container-write';
export type { ContainerWriter, ContainerWriterOptions, AddPackedOptions, ContainerWriteResult } from './container-write';
export { openSparqContainer, isSparqContainer } from './container-read';
export type { SparqContainer, ContainerEntry, StoredComponent, ReadOptions } from './container-read';
/** GPTQ (AutoGPTQ / GPTQModel) int32 packing interop. */
export { exportGptq, importGptq } from './gptq-pack';
export type { GptqTensors, GptqZeroConvention, GptqExportOptions, GptqImportOptions, GptqImport } from './gptq-pack';

/** The dense float64 weight matrix the pruning and quantization solvers share. */
export type { WeightMatrix } from './weight-matrix';
