/**
 * The tokenizer contract shared by every tokenizer format sparq reads
 * (llama2.c `tokenizer.bin`, Hugging Face `tokenizer.json`, GPT-2
 * `vocab.json` + `merges.txt`).
 */

/** Closed set of tokenizer implementations. */
export const TOKENIZER_KINDS = {
  /** llama2.c `tokenizer.bin` (sentencepiece BPE exported by llama2.c's `tokenizer.py`). */
  llama2c: 'llama2c',
  /** Hugging Face `tokenizer.json`, run by `@huggingface/tokenizers`. */
  hf: 'hf',
  /** GPT-2 byte-level BPE from `vocab.json` + `merges.txt`. */
  'gpt2-bpe': 'gpt2-bpe',
} as const;

/** Which format a {@link Tokenizer} was built from. */
export type TokenizerKind = (typeof TOKENIZER_KINDS)[keyof typeof TOKENIZER_KINDS];

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Prepend the BOS token. Defaults to the tokenizer's own convention
   * ({@link Tokenizer.addBosByDefault}): true for llama2.c and for HF tokenizers
   * whose config or post-processor adds it, false for GPT-2.
   */
  addBos?: boolean;
  /** Append the EOS token (default false). */
  addEos?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /**
   * Drop special tokens (BOS, EOS, other added special tokens) from the text.
   * Default false, except llama2.c, whose BOS/EOS control pieces never print
   * (llama2.c's `run.c` stops at them; sentencepiece decodes them to "").
   */
  skipSpecialTokens?: boolean;
}

/**
 * A text ↔ token-id mapping.
 * @example
 * const tok = await loadTokenizer('models/stories260K/tok512.bin');
 * const ids = tok.encode('Zoo'); // [1, 410, 469, 347]
 * tok.decode(ids); // 'Zoo'
 */
export interface Tokenizer {
  /** Which format this tokenizer was built from. */
  readonly kind: TokenizerKind;
  /** Number of token ids (one past the largest id). */
  readonly vocabSize: number;
  /** Beginning-of-sequence id, when the tokenizer has one. */
  readonly bosId?: number;
  /** End-of-sequence id, when the tokenizer has one. */
  readonly eosId?: number;
  /** Whether {@link Tokenizer.encode} prepends BOS when `addBos` is not given. */
  readonly addBosByDefault: boolean;
  /** Token ids of `text`. Never throws for any JS string (unknown characters use byte fallback or `<unk>`). */
  encode(text: string, opts?: EncodeOptions): number[];
  /** Text of `ids`; throws `E_TOKENIZER` for an id outside `[0, vocabSize)`. */
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  /** The vocabulary string of one id (raw piece, e.g. `Ġthe` or `<0x0A>`), or undefined. */
  idToToken(id: number): string | undefined;
  /** The id of one vocabulary string, or undefined. */
  tokenToId(token: string): number | undefined;
}
