/**
 * Tokenizers of `@sparq/lm` that run anywhere (no file system): llama2.c
 * `tokenizer.bin`, Hugging Face `tokenizer.json`, and GPT-2 `vocab.json` +
 * `merges.txt` parsed from bytes or objects, behind one {@link Tokenizer}
 * interface, plus streaming detokenization. `index.ts` adds the file loaders.
 */

/** The tokenizer contract, its kinds and encode/decode options. */
export { TOKENIZER_KINDS } from './types';
export type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerKind } from './types';

/** llama2.c `tokenizer.bin` (run.c-exact encode/decode). */
export { Llama2cTokenizer, parseLlama2cTokenizer } from './llama2c';
export type { Llama2cTokenizerOptions } from './llama2c';

/** Hugging Face `tokenizer.json` through `@huggingface/tokenizers`. */
export { HfTokenizer, createHfTokenizer } from './hf';
export type { HfTokenizerConfig, HfTokenizerOptions } from './hf';

/** GPT-2 byte-level BPE from `vocab.json` + `merges.txt`. */
export { GPT2_END_OF_TEXT, createGpt2BpeTokenizer, gpt2TokenizerJson, parseMerges } from './gpt2-bpe';

/** Loading from named byte sources (a container's files in a browser, a URL). */
export { loadTokenizerFrom } from './from-files';
export type { LoadTokenizerFromOptions } from './from-files';

/** Streaming text output during generation. */
export { createTokenDecoder } from './token-decoder';
export type { TokenDecoder } from './token-decoder';
