/**
 * @sparq/format — the compressed representation and on-disk formats: bit
 * packing, group quantization, N:M (+ quant), SpQR outliers and bilevel
 * statistics, NVIDIA 2:4 metadata, GPTQ interop, bits-per-weight accounting,
 * the sparq container, and safetensors I/O (lazy reader, sharded model view,
 * atomic streaming writer). Byte layouts: docs/format.md.
 * @packageDocumentation
 */

/** Everything that also runs in a browser (codecs, accounting, readers over byte sources). */
export * from './browser';

/** Node: a local file or folder as byte sources. */
export { folderSourceSet, openFileSource } from './file-source';

/** Lazily reads one local safetensors file: header up front, tensor bytes on demand. See {@link openSafetensors}. */
export { openSafetensors } from './safetensors-read';

/** Opens a model folder (index, single file or all `*.safetensors`) as one lazy tensor store. */
export { openSafetensorsModel, SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE } from './safetensors-model';
/** The multi-file view returned by {@link openSafetensorsModel}. */
export type { SafetensorsModel } from './safetensors-model';

/** Atomic writers: all tensors at once, or streamed one tensor at a time. */
export { writeSafetensors, writeSafetensorsStreaming } from './safetensors-write';

/** The sparq container writer, and the reader over a local folder. */
export { createContainerWriter, packedToComponents, DEFAULT_MAX_SHARD_BYTES } from './container-write';
export type { ContainerWriter, ContainerWriterOptions, AddPackedOptions, ContainerWriteResult } from './container-write';
export { openSparqContainer, isSparqContainer } from './container-read';
