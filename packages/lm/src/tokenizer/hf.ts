/**
 * Hugging Face `tokenizer.json` tokenizers, run by `@huggingface/tokenizers`
 * (pure JS, offline: it takes the parsed JSON objects, no network). This file
 * adds what sparq's {@link Tokenizer} contract needs on top of the library:
 * BOS/EOS ids and the add-BOS convention, id range checks, empty decodes, and
 * errors as `SparqError`.
 */
import { Tokenizer as LibTokenizer } from '@huggingface/tokenizers';
import { SparqError } from '@sparq/tensor';
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerKind } from './types';

/** The fields of `tokenizer_config.json` that sparq reads; other fields pass through to the library. */
export interface HfTokenizerConfig {
  /** BOS token text, or an AddedToken-like `{ content }` object. */
  bos_token?: string | { content: string } | null;
  /** EOS token text, or an AddedToken-like `{ content }` object. */
  eos_token?: string | { content: string } | null;
  /** Whether encoding prepends BOS (LlamaTokenizer convention). */
  add_bos_token?: boolean;
  /** Decode-time clean-up of spaces before punctuation (lossy); sparq's default is false. */
  clean_up_tokenization_spaces?: boolean;
  [key: string]: unknown;
}

/** Options of {@link createHfTokenizer}. */
export interface HfTokenizerOptions {
  /** File name used in error messages. */
  file?: string;
  /** Reported {@link Tokenizer.kind}; `'hf'` unless a format adapter (GPT-2) builds on this class. */
  kind?: TokenizerKind;
}

// Fallbacks when neither tokenizer_config.json nor the post-processor names
// BOS/EOS: the special tokens of the common LLaMA/GPT-2/Gemma/LLaMA-3 families.
const BOS_NAMES = ['<s>', '<|begin_of_text|>', '<bos>', '<|startoftext|>'];
const EOS_NAMES = ['</s>', '<|end_of_text|>', '<eos>', '<|endoftext|>'];

function tokenText(t: unknown): string | undefined {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && typeof (t as { content?: unknown }).content === 'string') {
    return (t as { content: string }).content;
  }
  return undefined;
}

/** A Hugging Face tokenizer; build it with {@link createHfTokenizer} or {@link loadHfTokenizer}. */
export class HfTokenizer implements Tokenizer {
  /** `'hf'`, or `'gpt2-bpe'` when built from vocab.json + merges.txt. */
  readonly kind: TokenizerKind;
  /** One past the largest id of the vocabulary and added tokens. */
  readonly vocabSize: number;
  /** BOS id from tokenizer_config.json, the post-processor, or a well-known name. */
  readonly bosId: number | undefined;
  /** EOS id from tokenizer_config.json, the post-processor, or a well-known name. */
  readonly eosId: number | undefined;
  /** tokenizer_config's `add_bos_token`, else whether the post-processor prepends BOS. */
  readonly addBosByDefault: boolean;
  /** The underlying `@huggingface/tokenizers` instance, for what this wrapper does not expose. */
  readonly lib: LibTokenizer;
  private readonly cleanUp: boolean;
  private readonly specialIds: Set<number>;

  /** Prefer {@link createHfTokenizer}. */
  constructor(lib: LibTokenizer, config: HfTokenizerConfig, kind: TokenizerKind) {
    this.lib = lib;
    this.kind = kind;
    let max = -1;
    for (const id of lib.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    this.specialIds = new Set(
      Array.from(lib.get_added_tokens_decoder()).filter(([, t]) => t.special).map(([id]) => id),
    );
    this.cleanUp = config.clean_up_tokenization_spaces === true;

    // Probe the post-processor: what does it add around a plain text?
    const plain = lib.encode('a', { add_special_tokens: false }).ids;
    const full = lib.encode('a', { add_special_tokens: true }).ids;
    const at = indexOfRun(full, plain);
    const lead = at > 0 ? full[0] : undefined;
    const trail = at >= 0 && at + plain.length < full.length ? full[full.length - 1] : undefined;

    const byName = (names: readonly string[]): number | undefined => {
      for (const n of names) {
        const id = lib.token_to_id(n);
        if (id !== undefined) return id;
      }
      return undefined;
    };
    const cfgBos = tokenText(config.bos_token);
    const cfgEos = tokenText(config.eos_token);
    this.bosId = (cfgBos !== undefined ? lib.token_to_id(cfgBos) : undefined) ?? lead ?? byName(BOS_NAMES);
    this.eosId = (cfgEos !== undefined ? lib.token_to_id(cfgEos) : undefined) ?? trail ?? byName(EOS_NAMES);
    this.addBosByDefault =
      typeof config.add_bos_token === 'boolean'
        ? config.add_bos_token && this.bosId !== undefined
        : lead !== undefined && lead === this.bosId;
  }

  /**
   * Token ids of `text`. The library's post-processor is not used; BOS/EOS are
   * added here per `opts`, so `addBos: false` also works for tokenizers whose
   * template always adds BOS. Added tokens (e.g. `<|endoftext|>`) in the text
   * are matched as single ids, as in Hugging Face `tokenizers`.
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids = text.length > 0 ? this.lib.encode(text, { add_special_tokens: false }).ids : [];
    if (opts.addBos ?? this.addBosByDefault) ids.unshift(this.require(this.bosId, 'BOS'));
    if (opts.addEos) ids.push(this.require(this.eosId, 'EOS'));
    return ids;
  }

  /** Text of `ids` through the tokenizer's decoder; no lossy space clean-up unless tokenizer_config asks for it. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.lib.id_to_token(id) === undefined) {
        throw new SparqError('E_TOKENIZER', `token id ${id} is not in the ${this.kind} vocabulary (size ${this.vocabSize})`, {
          details: { found: id },
        });
      }
    }
    const kept = opts.skipSpecialTokens ? ids.filter((id) => !this.specialIds.has(id)) : ids;
    // The library throws on an empty list; an empty sequence is the empty text.
    if (kept.length === 0) return '';
    return this.lib.decode([...kept], { skip_special_tokens: false, clean_up_tokenization_spaces: this.cleanUp });
  }

  /** Vocabulary string of `id` (e.g. `Ġthe`), or undefined. */
  idToToken(id: number): string | undefined {
    return this.lib.id_to_token(id);
  }

  /** Id of a vocabulary string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.lib.token_to_id(token);
  }

  private require(id: number | undefined, what: string): number {
    if (id === undefined) {
      throw new SparqError('E_TOKENIZER', `this ${this.kind} tokenizer has no ${what} token`, {
        hint: `add ${what.toLowerCase()}_token to tokenizer_config.json, or encode with add${what === 'BOS' ? 'Bos' : 'Eos'}: false`,
      });
    }
    return id;
  }
}

function indexOfRun(hay: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Builds a tokenizer from a parsed `tokenizer.json` object and an optional
 * parsed `tokenizer_config.json`. Throws `E_TOKENIZER` when the library
 * rejects the configuration (unknown model/pre-tokenizer type, bad regex).
 * @example
 * const tok = createHfTokenizer(JSON.parse(json), { bos_token: '<s>', add_bos_token: true });
 */
export function createHfTokenizer(tokenizerJson: unknown, config: HfTokenizerConfig = {}, opts: HfTokenizerOptions = {}): HfTokenizer {
  const file = opts.file ?? '<tokenizer.json>';
  if (!tokenizerJson || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson) || !('model' in tokenizerJson)) {
    throw new SparqError('E_TOKENIZER', `"${file}" is not a Hugging Face tokenizer.json (no "model" object)`, {
      details: { file },
    });
  }
  // The library requires these keys to exist (null is fine); minimal files omit them.
  const json = {
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    ...(tokenizerJson as Record<string, unknown>),
  } as Record<string, unknown>;
  if (!Array.isArray(json.added_tokens)) json.added_tokens = [];
  let lib: LibTokenizer;
  try {
    lib = new LibTokenizer(json, config);
  } catch (e) {
    throw new SparqError('E_TOKENIZER', `cannot build a tokenizer from "${file}": ${(e as Error)?.message ?? String(e)}`, {
      details: { file },
      hint: '@huggingface/tokenizers 0.2.0 supports BPE, WordPiece, Unigram models and the common normalizers, pre-tokenizers and decoders',
      cause: e,
    });
  }
  return new HfTokenizer(lib, config, opts.kind ?? 'hf');
}
