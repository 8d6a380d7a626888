/**
 * Node-only byte sources: a local file through a `FileHandle`, and a folder as
 * a {@link ByteSourceSet}. Kept out of the browser entry (`browser.ts`).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SparqError } from '@sparq/tensor';
import type { ByteSource, ByteSourceSet } from './byte-source';
import { ioError } from './io-error';

/**
 * Opens a local file as a byte source. `E_NOT_FOUND` for a missing file,
 * `E_IO` when it cannot be opened or read; `doing` words those messages
 * ("cannot open safetensors file: …").
 * @example
 * const src = await openFileSource('out/model.sparq/model.safetensors');
 */
export async function openFileSource(path: string, doing = 'open file'): Promise<ByteSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(e, path, doing);
  }
  let size: number;
  try {
    size = (await fh.stat()).size;
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw ioError(e, path, doing);
  }
  let closed = false;
  return {
    name: path,
    size,
    async read(offset, length) {
      if (closed) throw new SparqError('E_IO', `${path}: cannot read: the file was closed`, { details: { file: path } });
      const target = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        // Node caps one read at 2 GiB; chunk so large tensors still work.
        const want = Math.min(length - done, 1 << 30);
        const { bytesRead } = await fh.read(target, done, want, offset + done);
        if (bytesRead === 0) return target.subarray(0, done);
        done += bytesRead;
      }
      return target;
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}

/**
 * The files of a local folder as a {@link ByteSourceSet}; each `open` opens
 * one file handle, closed with the source.
 */
export function folderSourceSet(folder: string): ByteSourceSet {
  return { location: folder, open: (name) => openFileSource(join(folder, name)) };
}
