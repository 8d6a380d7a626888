/**
 * Tokenizer loaders that read local files (Node): llama2.c `tokenizer.bin`,
 * Hugging Face `tokenizer.json` (+ `tokenizer_config.json` beside it), GPT-2
 * `vocab.json` + `merges.txt`. The parsers they call run anywhere; browsers
 * use them through `tokenizerFromFiles` instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkVocab, createGpt2BpeTokenizer, parseMerges } from './gpt2-bpe';
import { createHfTokenizer, type HfTokenizer, type HfTokenizerConfig } from './hf';
import { parseLlama2cTokenizer, type Llama2cTokenizer, type Llama2cTokenizerOptions } from './llama2c';
import { readBytes, readJson, readText } from './read-file';

/**
 * Reads and parses a llama2.c `tokenizer.bin` (see {@link parseLlama2cTokenizer}).
 * @example
 * const tok = await loadLlama2cTokenizer('tok512.bin');
 * tok.encode('Zoo'); // [1, 410, 469, 347]
 */
export async function loadLlama2cTokenizer(path: string, opts: Omit<Llama2cTokenizerOptions, 'file'> = {}): Promise<Llama2cTokenizer> {
  return parseLlama2cTokenizer(await readBytes(path, 'llama2.c tokenizer'), { ...opts, file: path });
}

/**
 * Loads `tokenizer.json` at `path`, with `tokenizer_config.json` from the same
 * folder when it exists (BOS/EOS names, `add_bos_token`).
 * @example
 * const tok = await loadHfTokenizer('models/qwen/tokenizer.json');
 */
export async function loadHfTokenizer(path: string): Promise<HfTokenizer> {
  const json = await readJson(path, 'tokenizer.json');
  const cfgPath = join(dirname(path), 'tokenizer_config.json');
  let config: HfTokenizerConfig = {};
  if (existsSync(cfgPath)) {
    const c = await readJson(cfgPath, 'tokenizer_config.json');
    if (c && typeof c === 'object' && !Array.isArray(c)) config = c as HfTokenizerConfig;
  }
  return createHfTokenizer(json, config, { file: path });
}

/**
 * Loads `vocab.json` and `merges.txt` (default: `merges.txt` beside the vocab).
 * @example
 * const tok = await loadGpt2BpeTokenizer('models/gpt2-tokenizer/vocab.json');
 */
export async function loadGpt2BpeTokenizer(vocabPath: string, mergesPath = join(dirname(vocabPath), 'merges.txt')): Promise<HfTokenizer> {
  const vocab = checkVocab(await readJson(vocabPath, 'GPT-2 vocab.json'), vocabPath);
  const merges = parseMerges(await readText(mergesPath, 'GPT-2 merges.txt'), mergesPath);
  return createGpt2BpeTokenizer(vocab, merges, { file: vocabPath });
}
