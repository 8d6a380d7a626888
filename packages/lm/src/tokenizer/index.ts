/**
 * Tokenizers of `@sparq/lm`: llama2.c `tokenizer.bin`, Hugging Face
 * `tokenizer.json`, and GPT-2 `vocab.json` + `merges.txt`, behind one
 * {@link Tokenizer} interface, plus streaming detokenization.
 */

/** Everything that also runs in a browser: parsers, the contract, streaming decode, loading from byte sources. */
export * from './browser';

/** The same formats read from local files (Node). */
export { loadGpt2BpeTokenizer, loadHfTokenizer, loadLlama2cTokenizer } from './load-files';

/** Format detection and loading from a file or folder. */
export { TOKENIZER_FILE_NAMES, findTokenizerInFolder, loadTokenizer } from './load';
export type { LoadTokenizerOptions } from './load';
