/**
 * @sparq/format — on-disk formats. This entry point currently holds the
 * safetensors I/O: a lazy single-file reader, a lazy multi-file (sharded) model
 * view, and an atomic, streaming writer.
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
