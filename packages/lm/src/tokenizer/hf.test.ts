import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createHfTokenizer } from './hf';
import { loadHfTokenizer } from './load-files';
import { parseLlama2cTokenizer } from './llama2c';
import { loadTokenizer } from './load';
import { createTokenDecoder } from './token-decoder';

const tmp = mkdtempSync(join(tmpdir(), 'sparq-hf-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const gpt2Vocab = JSON.parse(readFileSync(sharedPath('models', 'gpt2-tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>;
const gpt2Merges = readFileSync(sharedPath('models', 'gpt2-tokenizer', 'merges.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0);

// The layout of the Hub's openai-community/gpt2 tokenizer.json, written out
// here by hand (merges in the older "a b" string form) rather than through
// gpt2-bpe.ts, so this fixture does not share code with the GPT-2 adapter.
const gpt2Json = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [
    { id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
  ],
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
    vocab: gpt2Vocab,
    merges: gpt2Merges,
  },
};

/**
 * A Llama/sentencepiece-style tokenizer.json of stories260K's tok512.bin, as
 * transformers' SpmConverter builds it: "▁" for spaces, merges ordered by the
 * merged piece's score, byte fallback, Prepend/Replace normalizer, and a
 * TemplateProcessing post-processor adding <s>.
 */
function llamaJsonFromTok512(): Record<string, unknown> {
  const t = parseLlama2cTokenizer(new Uint8Array(readFileSync(sharedPath('models', 'stories260K', 'tok512.bin'))));
  const pieces: string[] = [];
  for (let i = 0; i < t.vocabSize; i++) pieces.push(t.idToToken(i)!.replaceAll(' ', '▁'));
  pieces[0] = '<unk>';
  pieces[1] = '<s>';
  pieces[2] = '</s>';
  const vocab = Object.fromEntries(pieces.map((p, i) => [p, i]));
  const merges: { pair: [string, string]; score: number; id: number }[] = [];
  for (let id = 259; id < pieces.length; id++) {
    const p = Array.from(pieces[id]);
    for (let k = 1; k < p.length; k++) {
      const a = p.slice(0, k).join('');
      const b = p.slice(k).join('');
      if (a in vocab && b in vocab) merges.push({ pair: [a, b], score: t.scores[id], id });
    }
  }
  merges.sort((x, y) => y.score - x.score || x.id - y.id);
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: merges.map((m) => m.pair),
    },
  };
}

describe('Hugging Face tokenizer.json', () => {
  it('a GPT-2 tokenizer.json written to a folder encodes published GPT-2 ids', async () => {
    const dir = join(tmp, 'gpt2');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gpt2Json));
    const tok = await loadTokenizer(dir);
    expect(tok.kind).toBe('hf');
    expect(tok.vocabSize).toBe(50257);
    // openai/tiktoken tests/test_encoding.py (test_simple), "gpt2" encoding.
    expect(tok.encode('hello world')).toEqual([31373, 995]);
    expect(tok.encode('hello <|endoftext|>')).toEqual([31373, 220, 50256]);
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
    expect(tok.encode(' the')).toEqual([262]);
    // No tokenizer_config.json and a ByteLevel post-processor: no BOS by default,
    // <|endoftext|> found by name as EOS.
    expect(tok.addBosByDefault).toBe(false);
    expect(tok.eosId).toBe(50256);
    const s = 'Grüße, 世界!\r\n  🦀 tabs\tand  spaces ';
    expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('reads add_bos_token and bos_token from tokenizer_config.json beside it', async () => {
    const dir = join(tmp, 'gpt2-bos');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gpt2Json));
    writeFileSync(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ bos_token: { content: '<|endoftext|>' }, eos_token: '<|endoftext|>', add_bos_token: true }),
    );
    const tok = await loadHfTokenizer(join(dir, 'tokenizer.json'));
    expect(tok.bosId).toBe(50256);
    expect(tok.addBosByDefault).toBe(true);
    expect(tok.encode('hello world')).toEqual([50256, 31373, 995]);
    expect(tok.encode('hello world', { addBos: false })).toEqual([31373, 995]);
  });

  it('a Llama-style (sentencepiece BPE) tokenizer.json reproduces the llama2.c references', () => {
    const tok = createHfTokenizer(llamaJsonFromTok512());
    // BOS comes from the TemplateProcessing post-processor.
    expect(tok.bosId).toBe(1);
    expect(tok.eosId).toBe(2);
    expect(tok.addBosByDefault).toBe(true);
    const greedy = JSON.parse(
      readFileSync(sharedPath('models', 'stories260K', 'reference-greedy-Zoo.json'), 'utf8'),
    ) as { prompt_ids: number[]; greedy_ids: number[]; greedy_text: string };
    expect(tok.encode('Zoo')).toEqual(greedy.prompt_ids);
    expect(tok.decode(greedy.greedy_ids, { skipSpecialTokens: true })).toBe(greedy.greedy_text);
    const ppl = JSON.parse(
      readFileSync(sharedPath('models', 'stories260K', 'reference-ppl-tinystories_sample.json'), 'utf8'),
    ) as { per_document: { n_tokens_incl_bos: number }[] };
    const docs = readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8')
      .split(/^<\|endoftext\|>$/m)
      .map((d) => d.trim())
      .filter((d) => d.length > 0);
    expect(docs.map((d) => tok.encode(d).length)).toEqual(ppl.per_document.map((d) => d.n_tokens_incl_bos));
    // Streaming through the Strip/ByteFallback decoders: the deltas join to the full text.
    const text = 'Tom saw a 🦊 and said “hi”.';
    const dec = createTokenDecoder(tok, { skipSpecialTokens: true });
    const ids = tok.encode(text);
    expect(ids.map((id) => dec.push(id)).join('') + dec.flush()).toBe(text);
  });

  it('rejects what is not a tokenizer.json, and ids outside the vocabulary', () => {
    expect(() => createHfTokenizer({ vocab: {} }, {}, { file: 'x.json' })).toThrow(/x\.json.*no "model"/);
    expect(() => createHfTokenizer({ model: { type: 'Nope' } }, {}, { file: 'y.json' })).toThrow(/y\.json/);
    const tok = createHfTokenizer(gpt2Json);
    expect(() => tok.decode([50257])).toThrow(expect.objectContaining({ code: 'E_TOKENIZER' }));
  });
});

describe('streaming a Llama-style tokenizer.json with special tokens kept', () => {
  it('joins to the full decode, BOS/EOS text included', () => {
    const tok = createHfTokenizer(llamaJsonFromTok512());
    const ids = tok.encode('Tom saw a 🦊.', { addEos: true });
    const dec = createTokenDecoder(tok);
    const streamed = ids.map((id) => dec.push(id)).join('') + dec.flush();
    // Every piece of text appears; BOS/EOS kept as their added-token text.
    expect(streamed).toBe(tok.decode(ids));
    expect(streamed.replace(/<\/?s>/g, '').trim()).toBe('Tom saw a 🦊.');
  });
});
