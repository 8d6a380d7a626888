/**
 * GPT-2 byte-level BPE from `vocab.json` + `merges.txt`, built on
 * `@huggingface/tokenizers` by constructing in memory the same
 * `tokenizer.json` Hugging Face publishes for `gpt2`: ByteLevel
 * pre-tokenizer (GPT-2's bytes-to-unicode table and its regex
 * `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`),
 * rank-ordered merges with a word cache, ByteLevel decoder, and
 * `<|endoftext|>` as an added special token.
 */
import { SparqError } from '@sparq/tensor';
import { createHfTokenizer, type HfTokenizer } from './hf';

/** GPT-2's only special token: end of text, also used as BOS by GPT-2. */
export const GPT2_END_OF_TEXT = '<|endoftext|>';

/**
 * Parses `merges.txt`: one `left right` pair per line, in rank order. The
 * `#version: 0.2` first line of Hugging Face's copy is optional; blank lines
 * (the trailing newline) are skipped; CRLF line ends are accepted.
 * Throws `E_TOKENIZER` naming the line for any other shape.
 * @example
 * parseMerges('#version: 0.2\nĠ t\nĠ a\n'); // [['Ġ', 't'], ['Ġ', 'a']]
 */
export function parseMerges(text: string, file = '<merges.txt>'): [string, string][] {
  const out: [string, string][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (line.length === 0) continue;
    if (i === 0 && line.startsWith('#version')) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new SparqError('E_TOKENIZER', `${file} line ${i + 1}: expected "left right", found ${JSON.stringify(line)}`, {
        details: { file },
      });
    }
    out.push([parts[0], parts[1]]);
  }
  return out;
}

/**
 * The Hugging Face `tokenizer.json` object equivalent to GPT-2's
 * `vocab.json` + `merges.txt` (the layout of the Hub's `gpt2/tokenizer.json`).
 */
export function gpt2TokenizerJson(vocab: Record<string, number>, merges: [string, string][]): Record<string, unknown> {
  const eot = vocab[GPT2_END_OF_TEXT];
  return {
    version: '1.0',
    added_tokens:
      eot === undefined
        ? []
        : [{ id: eot, content: GPT2_END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** Checks a parsed vocab.json (token → id); `E_TOKENIZER` naming the file otherwise. Internal. */
export function checkVocab(vocab: unknown, file: string): Record<string, number> {
  if (!vocab || typeof vocab !== 'object' || Array.isArray(vocab)) {
    throw new SparqError('E_TOKENIZER', `${file}: expected a JSON object of token → id`, { details: { file } });
  }
  for (const [k, v] of Object.entries(vocab)) {
    if (!Number.isInteger(v) || (v as number) < 0) {
      throw new SparqError('E_TOKENIZER', `${file}: token ${JSON.stringify(k)} has id ${JSON.stringify(v)}, expected an integer ≥ 0`, {
        details: { file },
      });
    }
  }
  return vocab as Record<string, number>;
}

/**
 * Builds a GPT-2 byte-level BPE tokenizer from a parsed `vocab.json` and the
 * text (or parsed pairs) of `merges.txt`. `<|endoftext|>` is BOS and EOS;
 * BOS is not added by default (GPT-2 convention).
 * @example
 * const tok = createGpt2BpeTokenizer(vocab, mergesText);
 * tok.encode('Hello world'); // [15496, 995]
 */
export function createGpt2BpeTokenizer(
  vocab: Record<string, number>,
  merges: string | [string, string][],
  opts: { file?: string } = {},
): HfTokenizer {
  const file = opts.file ?? '<vocab.json>';
  const v = checkVocab(vocab, file);
  const m = typeof merges === 'string' ? parseMerges(merges) : merges;
  const hasEot = v[GPT2_END_OF_TEXT] !== undefined;
  return createHfTokenizer(
    gpt2TokenizerJson(v, m),
    {
      bos_token: hasEot ? GPT2_END_OF_TEXT : null,
      eos_token: hasEot ? GPT2_END_OF_TEXT : null,
      add_bos_token: false,
      clean_up_tokenization_spaces: false,
    },
    { file, kind: 'gpt2-bpe' },
  );
}
