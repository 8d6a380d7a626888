import { readFileSync } from 'node:fs';
import { sharedPath } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { createGpt2BpeTokenizer, parseMerges } from './gpt2-bpe';
import { loadGpt2BpeTokenizer } from './load-files';
import { createTokenDecoder } from './token-decoder';

const vocabPath = sharedPath('models', 'gpt2-tokenizer', 'vocab.json');
const mergesPath = sharedPath('models', 'gpt2-tokenizer', 'merges.txt');
const tok = await loadGpt2BpeTokenizer(vocabPath, mergesPath);

/**
 * An independent GPT-2 BPE, written from OpenAI's gpt-2 `src/encoder.py`
 * (bytes_to_unicode, the pre-tokenisation regex, the lowest-rank-first merge
 * loop) for cross-checking the library-backed tokenizer. Test-only.
 */
function referenceGpt2(vocab: Record<string, number>, merges: [string, string][]): (text: string) => number[] {
  const byteToChar: string[] = [];
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    byteToChar[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  }
  const ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const pat = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
  const enc = new TextEncoder();
  const cache = new Map<string, number[]>();
  const bpe = (word: string): number[] => {
    const hit = cache.get(word);
    if (hit) return hit;
    let parts = Array.from(word);
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      // Merge every occurrence of the best pair, left to right (encoder.py).
      const [a, b] = [parts[at], parts[at + 1]];
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(parts[i]);
      }
      parts = next;
    }
    const ids = parts.map((p) => vocab[p]);
    cache.set(word, ids);
    return ids;
  };
  return (text) =>
    (text.match(pat) ?? []).flatMap((w) => bpe(Array.from(enc.encode(w), (b) => byteToChar[b]).join('')));
}

describe('GPT-2 byte-level BPE (vocab.json + merges.txt)', () => {
  it('has GPT-2 vocabulary size and <|endoftext|> as BOS/EOS, no BOS by default', () => {
    expect(tok.kind).toBe('gpt2-bpe');
    expect(tok.vocabSize).toBe(50257);
    expect(tok.bosId).toBe(50256);
    expect(tok.eosId).toBe(50256);
    expect(tok.addBosByDefault).toBe(false);
  });

  it('encodes to published GPT-2 ids', () => {
    // openai/tiktoken tests/test_encoding.py (test_simple, test_simple_repeated), "gpt2" encoding.
    expect(tok.encode('hello world')).toEqual([31373, 995]);
    expect(tok.encode('hello <|endoftext|>')).toEqual([31373, 220, 50256]);
    const zeros: [string, number[]][] = [
      ['0', [15]],
      ['00', [405]],
      ['000', [830]],
      ['0000', [2388]],
      ['00000', [20483]],
      ['000000', [10535]],
      ['0000000', [24598]],
      ['00000000', [8269]],
      ['000000000', [10535, 830]],
      ['0000000000', [8269, 405]],
      ['0000000000000000', [25645]],
      ['00000000000000000', [8269, 10535, 830]],
    ];
    for (const [s, ids] of zeros) expect(tok.encode(s), s).toEqual(ids);
    // GPT-2's vocab.json: "Hello" 15496, "Ġworld" 995, "Ġthe" 262 (MANIFEST).
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
    expect(tok.encode(' the')).toEqual([262]);
    expect(tok.decode([31373, 995])).toBe('hello world');
  });

  it('treats <|endoftext|> as one special id and adds BOS/EOS on request', () => {
    expect(tok.encode('<|endoftext|>')).toEqual([50256]);
    expect(tok.encode('hello world', { addBos: true, addEos: true })).toEqual([50256, 31373, 995, 50256]);
    expect(tok.decode([50256, 31373, 995])).toBe('<|endoftext|>hello world');
    expect(tok.decode([50256, 31373, 995], { skipSpecialTokens: true })).toBe('hello world');
    expect(tok.encode('')).toEqual([]);
    expect(tok.decode([])).toBe('');
  });

  it('round-trips varied text', () => {
    const texts = [
      'hello',
      ' hello  ',
      'Grüße, 世界! 🦀\n\ttabs & newlines',
      'line one\r\nline two\r\n\r\n',
      '   leading and trailing   ',
      "I'm sure it's fine, they'll say—we've done 1,234.5 things!",
      '\n\n\n',
      'x'.repeat(300),
    ];
    for (const t of texts) expect(tok.decode(tok.encode(t)), JSON.stringify(t)).toBe(t);
  });

  it('accepts merges.txt with and without the #version header, and rejects malformed lines', () => {
    expect(parseMerges('#version: 0.2\nĠ t\r\nĠ a\n')).toEqual([
      ['Ġ', 't'],
      ['Ġ', 'a'],
    ]);
    expect(parseMerges('Ġ t\nĠ a')).toEqual([
      ['Ġ', 't'],
      ['Ġ', 'a'],
    ]);
    expect(() => parseMerges('Ġ t\nonlyone\n', 'm.txt')).toThrow(/m\.txt line 2/);
    const mergesText = readFileSync(mergesPath, 'utf8');
    expect(mergesText.startsWith('#version')).toBe(false); // this copy has no header (MANIFEST)
    const vocab = JSON.parse(readFileSync(vocabPath, 'utf8')) as Record<string, number>;
    const withHeader = createGpt2BpeTokenizer(vocab, `#version: 0.2\n${mergesText}`);
    expect(withHeader.encode(' the quick brown fox')).toEqual(tok.encode(' the quick brown fox'));
  });

  it('agrees with an independent encoder.py-style BPE on WikiText-2 lines', () => {
    const vocab = JSON.parse(readFileSync(vocabPath, 'utf8')) as Record<string, number>;
    const ref = referenceGpt2(vocab, parseMerges(readFileSync(mergesPath, 'utf8')));
    const lines = readFileSync(sharedPath('data', 'wikitext-2-raw', 'wiki.test.raw'), 'utf8')
      .split('\r\n')
      .slice(0, 300);
    let n = 0;
    for (const line of lines) {
      const ids = tok.encode(line);
      expect(ids, line).toEqual(ref(line));
      expect(tok.decode(ids)).toBe(line);
      n += ids.length;
    }
    expect(n).toBeGreaterThan(10_000);
  });

  it('streams text token by token without splitting multi-byte characters', () => {
    const text = 'Grüße 世界 🦀 — “quoted” ok\n';
    const ids = tok.encode(text);
    const dec = createTokenDecoder(tok);
    const parts = ids.map((id) => dec.push(id));
    parts.push(dec.flush());
    expect(parts.join('')).toBe(text);
    for (const p of parts) expect(p).not.toContain('\uFFFD');
    // 🦀 (4 UTF-8 bytes) spans several GPT-2 tokens, so some pushes emit nothing.
    expect(parts.some((p) => p === '')).toBe(true);
  });
});
