/**
 * Tokenizers of `@sparq/lm`: llama2.c `tokenizer.bin`, Hugging Face
 * `tokenizer.json`, and GPT-2 `vocab.json` + `merges.txt`, behind one
 * {@link Tokenizer} interface, plus streaming detokenization.
 */

/** The tokenizer contract, its kinds and encode/decode options. */
export { TOKENIZER_KINDS } from './types';
export type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerKind } from './types';

/** llama2.c `tokenizer.bin` (run.c-exact encode/decode). */
export { Llama2cTokenizer, loadLlama2cTokenizer, parseLlama2cTokenizer } from './llama2c';
export type { Llama2cTokenizerOptions } from './llama2c';

/** Hugging Face `tokenizer.json` through `@huggingface/tokenizers`. */
export { HfTokenizer, createHfTokenizer, loadHfTokenizer } from './hf';
export type { HfTokenizerConfig, HfTokenizerOptions } from './hf';

/** GPT-2 byte-level BPE from `vocab.json` + `merges.txt`. */
export { GPT2_END_OF_TEXT, createGpt2BpeTokenizer, gpt2TokenizerJson, loadGpt2BpeTokenizer, parseMerges } from './gpt2-bpe';

/** Format detection and loading from a file or folder. */
export { TOKENIZER_FILE_NAMES, findTokenizerInFolder, loadTokenizer } from './load';
export type { LoadTokenizerOptions } from './load';

/** Streaming text output during generation. */
export { createTokenDecoder } from './token-decoder';
export type { TokenDecoder } from './token-decoder';
