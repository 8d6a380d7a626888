/** File reading for tokenizer loaders, mapping Node errors to `SparqError` codes. */
import { readFile } from 'node:fs/promises';
import { SparqError } from '@sparq/tensor';

function toSparqError(e: unknown, path: string, what: string): SparqError {
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ENOENT') {
    return new SparqError('E_NOT_FOUND', `${what} "${path}" does not exist`, { details: { file: path }, cause: e });
  }
  return new SparqError('E_IO', `cannot read ${what} "${path}": ${(e as Error)?.message ?? String(e)}`, {
    details: { file: path },
    cause: e,
  });
}

/** Bytes of `path`; `E_NOT_FOUND` when missing, `E_IO` for other read failures. */
export async function readBytes(path: string, what = 'tokenizer file'): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw toSparqError(e, path, what);
  }
}

/** UTF-8 text of `path`; errors as {@link readBytes}. */
export async function readText(path: string, what = 'tokenizer file'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw toSparqError(e, path, what);
  }
}

/** Parsed JSON of `path`; invalid JSON is `E_TOKENIZER` naming the file. */
export async function readJson(path: string, what = 'tokenizer file'): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new SparqError('E_TOKENIZER', `${what} "${path}" is not valid JSON: ${(e as Error).message}`, {
      details: { file: path },
      cause: e,
    });
  }
}
