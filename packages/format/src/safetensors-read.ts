/**
 * Lazy safetensors reader: opening a file reads only the 8-byte length and the
 * header; each `read(name)` then reads exactly that tensor's bytes by offset.
 * The whole file is never loaded, so multi-gigabyte checkpoints cost memory
 * only for the tensors actually used.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SparqError, Tensor, shapeSize, storageFromBuffer } from '@sparq/tensor';
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
  /** The path the file was opened with. */
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
  /** Closes the file handle; further reads throw `E_IO`. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Reads exactly `length` bytes at `position` into `target`. A short read means
 * the file shrank after its header was validated, reported as truncation.
 */
async function readExactly(fh: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    // Node caps one read at 2 GiB; chunk so large tensors still work.
    const want = Math.min(target.byteLength - done, 1 << 30);
    const { bytesRead } = await fh.read(target, done, want, position + done);
    if (bytesRead === 0) {
      throw new SparqError('E_SAFETENSORS', `${file}: truncated: expected ${position + target.byteLength} bytes, found ${position + done}`, {
        details: { file, expected: position + target.byteLength, found: position + done },
        hint: 'the file changed or was cut short while open',
      });
    }
    done += bytesRead;
  }
}

/**
 * Opens a safetensors file and validates its header (sizes, dtypes, offsets,
 * metadata) without reading tensor data.
 * Throws `E_NOT_FOUND` for a missing file, `E_IO` when it cannot be read and
 * `E_SAFETENSORS` when it is malformed.
 * @example
 * const f = await openSafetensors('model.safetensors');
 * try {
 *   const w = await f.read('model.embed_tokens.weight');
 * } finally {
 *   await f.close();
 * }
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  assertLittleEndianHost();
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(e, path, 'open safetensors file');
  }
  try {
    const { size } = await fh.stat();
    const prefix = new Uint8Array(HEADER_PREFIX_BYTES);
    if (size >= HEADER_PREFIX_BYTES) await readExactly(fh, prefix, 0, path);
    const n = parseHeaderLength(prefix, size, path);
    const headerBytes = new Uint8Array(n);
    await readExactly(fh, headerBytes, HEADER_PREFIX_BYTES, path);
    const header = parseHeader(headerBytes, size, path);
    return createFile(fh, path, header.tensors, header.metadata);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw ioError(e, path, 'read safetensors header');
  }
}

function createFile(
  fh: FileHandle,
  path: string,
  tensors: TensorInfo[],
  metadata: Record<string, string>,
): SafetensorsFile {
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
      // A fresh ArrayBuffer starts at offset 0, so any element size is aligned,
      // whatever the tensor's offset inside the file.
      const buffer = new ArrayBuffer(t.byteLength);
      try {
        await readExactly(fh, new Uint8Array(buffer), t.byteOffset, path);
      } catch (e) {
        throw ioError(e, path, `read tensor "${name}"`);
      }
      return new Tensor(t.dtype, t.shape, storageFromBuffer(t.dtype, buffer, 0, shapeSize(t.shape)));
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}
