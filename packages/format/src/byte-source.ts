/**
 * Byte sources: random access to one file's bytes wherever they live — a
 * local file (Node, see `file-source.ts`), bytes already in memory, a browser
 * `Blob`/`File`, or a URL. The safetensors and container readers are written
 * against this interface, so the same reader runs in Node and in a browser.
 */
import { SparqError } from '@sparq/tensor';

/** Random-access reads of one file. */
export interface ByteSource {
  /** Name used in error messages: a path, URL or file name. */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset` into a fresh `Uint8Array` that owns its
   * buffer from byte 0 (so any typed-array view of it is aligned). Returns
   * fewer bytes only when the data ends early (a file that shrank after it
   * was opened); callers report that as truncation.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the underlying handle. Safe to call twice. */
  close(): Promise<void>;
}

/** A named set of byte sources: the files of one container or model folder. */
export interface ByteSourceSet {
  /** Where the files live, for messages (a folder path, a base URL, "selected files"). */
  readonly location: string;
  /** Opens file `name` (a plain file name); `E_NOT_FOUND` when the set has no such file. */
  open(name: string): Promise<ByteSource>;
  /** True when the set holds file `name`; undefined when that cannot be known without fetching. */
  has?(name: string): boolean;
}

function checkRange(name: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new SparqError('E_ARG', `${name}: invalid read of ${length} bytes at offset ${offset}`, { details: { file: name, found: { offset, length } } });
  }
}

/**
 * A byte source over bytes already in memory. Reads copy, so callers own
 * what they get and the source stays unchanged.
 * @example
 * const src = bytesSource('model.safetensors', new Uint8Array(await file.arrayBuffer()));
 */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    read(offset, length) {
      checkRange(name, offset, length);
      return Promise.resolve(bytes.slice(offset, Math.min(bytes.byteLength, offset + length)));
    },
    close: () => Promise.resolve(),
  };
}

/**
 * A byte source over a `Blob` (a browser `File` from an `<input type=file>`
 * is one): each read slices the blob, so only the bytes asked for are read.
 * @example
 * const src = blobSource(input.files[0]); // name = the File's name
 */
export function blobSource(blob: Blob, name = (blob as { name?: string }).name ?? 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(name, offset, length);
      try {
        return new Uint8Array(await blob.slice(offset, Math.min(blob.size, offset + length)).arrayBuffer());
      } catch (e) {
        throw new SparqError('E_IO', `${name}: cannot read ${length} bytes at offset ${offset}: ${(e as Error)?.message ?? String(e)}`, { details: { file: name }, cause: e });
      }
    },
    close: () => Promise.resolve(),
  };
}

/**
 * A set of in-memory sources by file name (e.g. the files a user picked).
 * Names are matched exactly; the location labels messages.
 * @example
 * const set = byteSourceSet('selected files', [blobSource(f1), blobSource(f2)]);
 * const c = await openSparqContainerFrom(set);
 */
export function byteSourceSet(location: string, sources: Iterable<ByteSource>): ByteSourceSet {
  const byName = new Map<string, ByteSource>();
  for (const s of sources) byName.set(s.name, s);
  return {
    location,
    has: (name) => byName.has(name),
    open(name) {
      const s = byName.get(name);
      if (s === undefined) {
        return Promise.reject(
          new SparqError('E_NOT_FOUND', `${location}: no file "${name}" (have: ${[...byName.keys()].sort().join(', ') || 'none'})`, {
            details: { file: name, found: [...byName.keys()] },
          }),
        );
      }
      return Promise.resolve(s);
    },
  };
}
