/**
 * Tokenizers from named files of any byte source set (a container's files in
 * a browser, fetched from a URL, …): the same formats and the same
 * preference order as `findTokenizerInFolder`, without a file system.
 */
import type { ByteSourceSet } from '@sparq/format';
import { SparqError } from '@sparq/tensor';
import { createGpt2BpeTokenizer } from './gpt2-bpe';
import { createHfTokenizer, type HfTokenizerConfig } from './hf';
import { parseLlama2cTokenizer } from './llama2c';
import type { Tokenizer } from './types';

/** Options of {@link loadTokenizerFrom}. */
export interface LoadTokenizerFromOptions {
  /** For llama2.c files: the checkpoint's vocab_size, to read exactly that many pieces. */
  vocabSize?: number;
}

async function bytesOf(files: ByteSourceSet, name: string): Promise<{ bytes: Uint8Array; file: string }> {
  const src = await files.open(name);
  try {
    const bytes = await src.read(0, src.size);
    if (bytes.byteLength < src.size) {
      throw new SparqError('E_IO', `${src.name}: read ${bytes.byteLength} of ${src.size} bytes`, { details: { file: src.name, expected: src.size, found: bytes.byteLength } });
    }
    return { bytes, file: src.name };
  } finally {
    await src.close().catch(() => undefined);
  }
}

async function jsonOf(files: ByteSourceSet, name: string): Promise<{ json: unknown; file: string }> {
  const { bytes, file } = await bytesOf(files, name);
  try {
    return { json: JSON.parse(new TextDecoder().decode(bytes)) as unknown, file };
  } catch (e) {
    throw new SparqError('E_TOKENIZER', `${name} "${file}" is not valid JSON: ${(e as Error).message}`, { details: { file }, cause: e });
  }
}

/**
 * Loads the tokenizer among `names` (the files known to exist in `files`,
 * e.g. a container manifest's `tokenizer_files`): `tokenizer.json` (with
 * `tokenizer_config.json` when listed), else `vocab.json` + `merges.txt`,
 * else `tokenizer.bin`, else a single `tok<N>.bin`. `E_NOT_FOUND` when none
 * is there.
 * @example
 * const tok = await loadTokenizerFrom(files, container.manifest.tokenizer_files, { vocabSize: 512 });
 */
export async function loadTokenizerFrom(files: ByteSourceSet, names: readonly string[], opts: LoadTokenizerFromOptions = {}): Promise<Tokenizer> {
  const have = new Set(names);
  if (have.has('tokenizer.json')) {
    const { json, file } = await jsonOf(files, 'tokenizer.json');
    let config: HfTokenizerConfig = {};
    if (have.has('tokenizer_config.json')) {
      const c = (await jsonOf(files, 'tokenizer_config.json')).json;
      if (c && typeof c === 'object' && !Array.isArray(c)) config = c as HfTokenizerConfig;
    }
    return createHfTokenizer(json, config, { file });
  }
  if (have.has('vocab.json') && have.has('merges.txt')) {
    const { json, file } = await jsonOf(files, 'vocab.json');
    const merges = new TextDecoder().decode((await bytesOf(files, 'merges.txt')).bytes);
    return createGpt2BpeTokenizer(json as Record<string, number>, merges, { file });
  }
  const sized = names.filter((n) => /^tok\d+\.bin$/.test(n));
  const bin = have.has('tokenizer.bin') ? 'tokenizer.bin' : sized.length === 1 ? sized[0] : undefined;
  if (bin !== undefined) {
    const { bytes, file } = await bytesOf(files, bin);
    return parseLlama2cTokenizer(bytes, { file, ...(opts.vocabSize !== undefined ? { vocabSize: opts.vocabSize } : {}) });
  }
  throw new SparqError('E_NOT_FOUND', `no tokenizer among the files of ${files.location} (${names.length ? names.join(', ') : 'none listed'})`, {
    details: { file: files.location, found: [...names] },
    hint: 'expected tokenizer.json, vocab.json + merges.txt, tokenizer.bin or one tok<N>.bin',
  });
}
