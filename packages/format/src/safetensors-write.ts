/**
 * Safetensors writer. The header is computed from dtypes and shapes alone, so
 * it is written first and each tensor's bytes follow as they are produced: a
 * model larger than RAM can be written one tensor at a time. Output goes to a
 * temp file renamed into place on success, so a failure never leaves a partial
 * or truncated file at the target path.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SparqError, Tensor, isDType, type DType } from '@sparq/tensor';
import { METADATA_KEY, assertLittleEndianHost, encodeHeader, type TensorEntry } from './safetensors-header';
import { ioError } from './io-error';

/** Largest single write; keeps each call well below Node's 2 GiB I/O limit. */
const WRITE_CHUNK_BYTES = 1 << 30;

/** Checks names, dtypes, shapes and metadata before anything touches the disk. */
function validateInputs(path: string, entries: readonly TensorEntry[], metadata: Record<string, string> | undefined): void {
  const seen = new Set<string>();
  for (const e of entries) {
    if (typeof e.name !== 'string') {
      throw new SparqError('E_ARG', `${path}: tensor names must be strings, found ${typeof e.name}`, { details: { file: path } });
    }
    if (e.name === METADATA_KEY) {
      throw new SparqError('E_ARG', `${path}: "${METADATA_KEY}" is reserved and cannot name a tensor`, {
        details: { file: path, tensor: e.name },
      });
    }
    if (seen.has(e.name)) {
      throw new SparqError('E_ARG', `${path}: tensor "${e.name}" is listed twice`, { details: { file: path, tensor: e.name } });
    }
    seen.add(e.name);
    if (typeof e.dtype !== 'string' || !isDType(e.dtype)) {
      throw new SparqError('E_DTYPE', `tensor "${e.name}" in ${path}: unknown dtype "${String(e.dtype)}"`, {
        details: { file: path, tensor: e.name, found: e.dtype },
      });
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SparqError('E_SHAPE_MISMATCH', `tensor "${e.name}" in ${path}: invalid shape ${JSON.stringify(e.shape)}`, {
        details: { file: path, tensor: e.name, found: e.shape },
      });
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new SparqError('E_ARG', `${path}: metadata value of "${k}" must be a string, found ${typeof v}`, {
          details: { file: path, expected: 'string', found: v },
        });
      }
    }
  }
}

/** Throws `E_SHAPE_MISMATCH` unless `t` is a tensor with the declared dtype and shape. */
function checkProduced(t: unknown, e: TensorEntry, path: string): asserts t is Tensor {
  const declared = `${e.dtype} [${e.shape.join(', ')}]`;
  if (!(t instanceof Tensor)) {
    throw new SparqError('E_SHAPE_MISMATCH', `tensor "${e.name}" in ${path}: produce() returned ${t === null ? 'null' : typeof t}, expected a Tensor ${declared}`, {
      details: { file: path, tensor: e.name, expected: declared },
    });
  }
  const sameShape = t.shape.length === e.shape.length && t.shape.every((d, i) => d === e.shape[i]);
  if (t.dtype !== e.dtype || !sameShape) {
    const found = `${t.dtype} [${t.shape.join(', ')}]`;
    throw new SparqError('E_SHAPE_MISMATCH', `tensor "${e.name}" in ${path}: declared ${declared}, produced ${found}`, {
      details: { file: path, tensor: e.name, expected: declared, found },
      hint: 'the entries passed to writeSafetensorsStreaming must match what produce() returns',
    });
  }
}

/** Writes all of `bytes` at the current position, in chunks. */
async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = Math.min(bytes.byteLength - done, WRITE_CHUNK_BYTES);
    const { bytesWritten } = await fh.write(bytes, done, n);
    done += bytesWritten;
  }
}

/**
 * Writes a safetensors file whose tensors are produced one at a time, so peak
 * memory is one tensor. The header comes from `entries` (order kept); each
 * `produce(name)` result must match its declared dtype and shape, else
 * `E_SHAPE_MISMATCH` and no output is left behind.
 * @example
 * await writeSafetensorsStreaming(
 *   'out/model.safetensors',
 *   [{ name: 'w', dtype: 'f32', shape: [2, 2] }],
 *   async (name) => Tensor.f32([2, 2], [1, 2, 3, 4]),
 *   { format: 'pt' },
 * );
 */
export async function writeSafetensorsStreaming(
  path: string,
  entries: readonly { name: string; dtype: DType; shape: readonly number[] }[],
  produce: (name: string) => Promise<Tensor> | Tensor,
  metadata?: Record<string, string>,
): Promise<void> {
  assertLittleEndianHost();
  validateInputs(path, entries, metadata);
  const header = encodeHeader(entries, metadata);

  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw ioError(e, path, 'create the parent folder');
  }
  // pid + random suffix: concurrent writers of the same target never share a temp file.
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fh: FileHandle | undefined;
  try {
    try {
      fh = await open(tmp, 'wx');
      await writeAll(fh, header.bytes);
    } catch (e) {
      throw ioError(e, path, 'write safetensors file');
    }
    for (const e of entries) {
      const t = await produce(e.name);
      checkProduced(t, e, path);
      const d = t.data;
      try {
        await writeAll(fh, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      } catch (err) {
        throw ioError(err, path, `write tensor "${e.name}"`);
      }
    }
    try {
      // Flush before rename so a crash cannot leave a complete-looking but empty file.
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, path);
    } catch (e) {
      throw ioError(e, path, 'finish safetensors file');
    }
  } catch (e) {
    if (fh !== undefined) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    // fs failures were already wrapped above; anything else (a producer's own
    // error) propagates unchanged so callers can recognise it.
    throw e;
  }
}

/**
 * Writes tensors to a safetensors file, in the given order, with optional
 * string metadata. Atomic: the target appears only once fully written.
 * @example
 * await writeSafetensors('out.safetensors', { w: Tensor.f32([2], [1, 2]) }, { format: 'pt' });
 */
export async function writeSafetensors(
  path: string,
  tensors: Iterable<[string, Tensor]> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const list: [string, Tensor][] =
    Symbol.iterator in tensors ? [...(tensors as Iterable<[string, Tensor]>)] : Object.entries(tensors);
  const entries = list.map(([name, t]) => {
    if (!(t instanceof Tensor)) {
      throw new SparqError('E_ARG', `${path}: value for "${name}" is not a Tensor`, { details: { file: path, tensor: name } });
    }
    return { name, dtype: t.dtype, shape: t.shape };
  });
  validateInputs(path, entries, metadata);
  // Validation above guarantees unique names, so a map lookup is exact.
  const byName = new Map(list);
  await writeSafetensorsStreaming(path, entries, (name) => byName.get(name)!, metadata);
}
