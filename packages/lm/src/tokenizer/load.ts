/**
 * One entry point for every tokenizer format: pick the format of a file by
 * name (then content), or find a folder's own tokenizer.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SparqError } from '@sparq/tensor';
import { loadGpt2BpeTokenizer, loadHfTokenizer, loadLlama2cTokenizer } from './load-files';
import { readBytes } from './read-file';
import type { Tokenizer } from './types';

/** File names looked for in a folder, in order of preference. */
export const TOKENIZER_FILE_NAMES = {
  /** Hugging Face tokenizer. */
  hf: 'tokenizer.json',
  /** GPT-2 vocabulary; needs {@link TOKENIZER_FILE_NAMES.gpt2Merges} beside it. */
  gpt2Vocab: 'vocab.json',
  /** GPT-2 merges. */
  gpt2Merges: 'merges.txt',
  /** llama2.c tokenizer (llama2.c also names them `tok512.bin`, `tok4096.bin`, …). */
  llama2c: 'tokenizer.bin',
} as const;

/** Options of {@link loadTokenizer}. */
export interface LoadTokenizerOptions {
  /** For llama2.c files: the checkpoint's vocab_size, to read exactly that many pieces. */
  vocabSize?: number;
}

// llama2.c's custom-vocabulary tokenizers are named tok<N>.bin (tok512.bin).
const LLAMA2C_SIZED = /^tok\d+\.bin$/;

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The tokenizer file of a model folder, or undefined: `tokenizer.json`, else
 * `vocab.json` with `merges.txt` beside it (the vocab path is returned), else
 * `tokenizer.bin`, else a single `tok<N>.bin`.
 * @example
 * findTokenizerInFolder('models/stories260K'); // '.../models/stories260K/tok512.bin'
 */
export function findTokenizerInFolder(folder: string): string | undefined {
  const at = (name: string): string | undefined => (isFile(join(folder, name)) ? join(folder, name) : undefined);
  const hf = at(TOKENIZER_FILE_NAMES.hf);
  if (hf) return hf;
  const vocab = at(TOKENIZER_FILE_NAMES.gpt2Vocab);
  if (vocab && at(TOKENIZER_FILE_NAMES.gpt2Merges)) return vocab;
  const bin = at(TOKENIZER_FILE_NAMES.llama2c);
  if (bin) return bin;
  let names: string[] = [];
  try {
    names = readdirSync(folder).filter((n) => LLAMA2C_SIZED.test(n) && isFile(join(folder, n)));
  } catch {
    return undefined;
  }
  // Several tok<N>.bin are ambiguous: let the caller name one.
  return names.length === 1 ? join(folder, names[0]) : undefined;
}

/** Loads a GPT-2 vocab, requiring merges.txt beside it. */
async function loadGpt2Beside(vocabPath: string): Promise<Tokenizer> {
  const merges = join(dirname(vocabPath), TOKENIZER_FILE_NAMES.gpt2Merges);
  if (!existsSync(merges)) {
    throw new SparqError('E_NOT_FOUND', `GPT-2 vocabulary "${vocabPath}" has no merges.txt beside it (looked for "${merges}")`, {
      details: { file: vocabPath },
    });
  }
  return loadGpt2BpeTokenizer(vocabPath, merges);
}

/**
 * Loads a tokenizer from a file or a model folder.
 *
 * - a file named `tokenizer.json` → Hugging Face; `vocab.json` (or `merges.txt`)
 *   → GPT-2 BPE with the other file beside it; `*.bin` → llama2.c;
 * - any other file by content: JSON with a `"model"` object → Hugging Face,
 *   other JSON → GPT-2 vocab, else llama2.c;
 * - a folder → {@link findTokenizerInFolder}; `E_NOT_FOUND` listing the names
 *   looked for when none matches.
 * @example
 * const tok = await loadTokenizer('models/gpt2-tokenizer'); // vocab.json + merges.txt
 * tok.encode('Hello world'); // [15496, 995]
 */
export async function loadTokenizer(path: string, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw new SparqError('E_NOT_FOUND', `tokenizer path "${path}" does not exist`, { details: { file: path }, cause: e });
  }
  if (stat.isDirectory()) {
    const found = findTokenizerInFolder(path);
    if (found === undefined) {
      const names = [
        TOKENIZER_FILE_NAMES.hf,
        `${TOKENIZER_FILE_NAMES.gpt2Vocab} + ${TOKENIZER_FILE_NAMES.gpt2Merges}`,
        TOKENIZER_FILE_NAMES.llama2c,
        'tok<N>.bin (exactly one)',
      ];
      throw new SparqError('E_NOT_FOUND', `no tokenizer in folder "${path}": looked for ${names.join(', ')}`, {
        details: { file: path },
        hint: 'pass the tokenizer file explicitly (e.g. --tokenizer path/to/tokenizer.json)',
      });
    }
    return loadTokenizer(found, opts);
  }

  const name = basename(path);
  if (name === TOKENIZER_FILE_NAMES.hf) return loadHfTokenizer(path);
  if (name.endsWith(TOKENIZER_FILE_NAMES.gpt2Vocab)) return loadGpt2Beside(path);
  if (name === TOKENIZER_FILE_NAMES.gpt2Merges) return loadGpt2Beside(join(dirname(path), TOKENIZER_FILE_NAMES.gpt2Vocab));
  if (name.endsWith('.bin')) return loadLlama2cTokenizer(path, opts);
  if (name.endsWith('.model')) {
    throw new SparqError('E_TOKENIZER', `"${path}" looks like a sentencepiece .model file, which sparq does not read`, {
      details: { file: path },
      hint: "use the model's tokenizer.json, or export a llama2.c tokenizer.bin with llama2.c's tokenizer.py",
    });
  }

  // Unknown name: sniff the content. JSON starts with '{' (after whitespace).
  const bytes = await readBytes(path);
  let first = 0;
  while (first < bytes.length && (bytes[first] === 0x20 || bytes[first] === 0x0a || bytes[first] === 0x0d || bytes[first] === 0x09)) first++;
  if (bytes[first] === 0x7b) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      json = undefined;
    }
    if (json && typeof json === 'object' && 'model' in json) return loadHfTokenizer(path);
    if (json && typeof json === 'object') return loadGpt2Beside(path);
  }
  return loadLlama2cTokenizer(path, opts);
}
