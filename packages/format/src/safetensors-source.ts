/**
 * Lazy safetensors reader over any {@link ByteSource}: opening reads only the
 * 8-byte length and the header; each `read(name)` then reads exactly that
 * tensor's bytes by offset. The whole file is never loaded, so
 * multi-gigabyte checkpoints cost memory only for the tensors actually used.
 * Runs anywhere (no Node modules); `openSafetensors(path)` is the Node
 * convenience over a local file.
 */
import { SparqError, Tensor, shapeSize, storageFromBuffer } from '@sparq/tensor';
import type { ByteSource } from './byte-source';
import {
  HEADER_PREFIX_BYTES,
  assertLittleEndianHost,
  parseHeader,
  parseHeaderLength,
  type TensorInfo,
} from './safetensors-header';
import { ioError } from './io-error';
import { describeSuggestions, suggestNames } from './suggest-names';

/** An open safetensors file. Call {@link SafetensorsFile.close} when done. */
export interface SafetensorsFile {
  /** The path (or source name) the file was opened with. */
  readonly path: string;
  /** The header's `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensor names in the order the header lists them. */
  names(): string[];
  /** True when the file holds a tensor `name`. */
  has(name: string): boolean;
  /** Dtype, shape and location of `name`; throws `E_NOT_FOUND` if absent. */
  info(name: string): TensorInfo;
  /** Reads tensor `name` into fresh, aligned storage; throws `E_NOT_FOUND` if absent. */
  read(name: string): Promise<Tensor>;
  /** Closes the source; further reads throw `E_IO`. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Reads exactly `length` bytes at `position`. A short read means the file
 * shrank after its header was validated, reported as truncation.
 */
async function readExactly(src: ByteSource, position: number, length: number): Promise<Uint8Array> {
  const got = await src.read(position, length);
  if (got.byteLength < length) {
    throw new SparqError('E_SAFETENSORS', `${src.name}: truncated: expected ${position + length} bytes, found ${position + got.byteLength}`, {
      details: { file: src.name, expected: position + length, found: position + got.byteLength },
      hint: 'the file changed or was cut short while open',
    });
  }
  return got;
}

/**
 * Opens a safetensors file from a byte source and validates its header
 * (sizes, dtypes, offsets, metadata) without reading tensor data. Throws
 * `E_SAFETENSORS` when it is malformed, `E_IO` when it cannot be read. The
 * returned file owns the source: closing it closes the source.
 * @example
 * const f = await openSafetensorsSource(blobSource(input.files[0]));
 * const w = await f.read('model.embed_tokens.weight');
 */
export async function openSafetensorsSource(src: ByteSource): Promise<SafetensorsFile> {
  assertLittleEndianHost();
  const path = src.name;
  try {
    const size = src.size;
    const prefix = size >= HEADER_PREFIX_BYTES ? await readExactly(src, 0, HEADER_PREFIX_BYTES) : new Uint8Array(HEADER_PREFIX_BYTES);
    const n = parseHeaderLength(prefix, size, path);
    const headerBytes = await readExactly(src, HEADER_PREFIX_BYTES, n);
    const header = parseHeader(headerBytes, size, path);
    return createFile(src, header.tensors, header.metadata);
  } catch (e) {
    await src.close().catch(() => undefined);
    throw ioError(e, path, 'read safetensors header');
  }
}

function createFile(src: ByteSource, tensors: TensorInfo[], metadata: Record<string, string>): SafetensorsFile {
  const path = src.name;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  let closed = false;

  const info = (name: string): TensorInfo => {
    const t = byName.get(name);
    if (t === undefined) {
      throw new SparqError(
        'E_NOT_FOUND',
        `tensor "${name}" not found in ${path}${describeSuggestions(suggestNames(name, byName.keys()))}`,
        { details: { file: path, tensor: name } },
      );
    }
    return { ...t };
  };

  return {
    path,
    metadata: Object.freeze({ ...metadata }),
    names: () => [...byName.keys()],
    has: (name) => byName.has(name),
    info,
    async read(name) {
      const t = info(name);
      if (closed) {
        throw new SparqError('E_IO', `${path}: cannot read tensor "${name}": the file was closed`, {
          details: { file: path, tensor: name },
        });
      }
      let bytes: Uint8Array;
      try {
        bytes = await readExactly(src, t.byteOffset, t.byteLength);
      } catch (e) {
        throw ioError(e, path, `read tensor "${name}"`);
      }
      // Sources return a fresh buffer starting at offset 0, so any element size
      // is aligned whatever the tensor's offset inside the file; copy otherwise.
      const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === t.byteLength ? bytes : bytes.slice();
      return new Tensor(t.dtype, t.shape, storageFromBuffer(t.dtype, own.buffer as ArrayBuffer, 0, shapeSize(t.shape)));
    },
    async close() {
      if (closed) return;
      closed = true;
      await src.close();
    },
  };
}
