import { readFileSync } from 'node:fs';
import { isSparqError } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { parseLlama2cTokenizer } from './llama2c';
import { loadLlama2cTokenizer } from './load-files';

const tokPath = sharedPath('models', 'stories260K', 'tok512.bin');
const tokBytes = new Uint8Array(readFileSync(tokPath));
const tok = parseLlama2cTokenizer(tokBytes, { vocabSize: 512, file: tokPath });

interface GreedyRef {
  prompt: string;
  prompt_ids: number[];
  greedy_ids: number[];
  greedy_text: string;
}
interface PplRef {
  per_document: { n_tokens_incl_bos: number }[];
}
const greedy = JSON.parse(
  readFileSync(sharedPath('models', 'stories260K', 'reference-greedy-Zoo.json'), 'utf8'),
) as GreedyRef;
const ppl = JSON.parse(
  readFileSync(sharedPath('models', 'stories260K', 'reference-ppl-tinystories_sample.json'), 'utf8'),
) as PplRef;

function expectTokenizerError(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isSparqError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('E_TOKENIZER');
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an E_TOKENIZER error');
}

/**
 * A literal port of run.c's O(n²) merge loop (rescan every pair, take the
 * strictly best score, so ties go to the leftmost), to check the heap-based
 * encoder id for id. Test-only; starts from run.c's code-point tokens.
 */
function runCMerge(tokens: number[]): number[] {
  const t = tokens.slice();
  for (;;) {
    let bestScore = -1e10;
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i < t.length - 1; i++) {
      const id = tok.tokenToId(tok.idToToken(t[i])! + tok.idToToken(t[i + 1])!);
      if (id !== undefined && tok.scores[id] > bestScore) {
        bestScore = tok.scores[id];
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx === -1) return t;
    t.splice(bestIdx, 2, bestId);
  }
}

function runCEncode(text: string): number[] {
  const ids = [1, tok.tokenToId(' ')!];
  for (const ch of text) {
    const id = tok.tokenToId(ch);
    if (id !== undefined) ids.push(id);
    else for (const b of new TextEncoder().encode(ch)) ids.push(b + 3);
  }
  return runCMerge(ids);
}

describe('llama2.c tokenizer (tok512.bin)', () => {
  it('reads the header and 512 pieces with the llama2.c control ids', () => {
    expect(tok.vocabSize).toBe(512);
    expect(tok.bosId).toBe(1);
    expect(tok.eosId).toBe(2);
    // MANIFEST: ids 3..258 are the byte-fallback pieces <0x00>..<0xFF>.
    expect(tok.idToToken(3)).toBe('<0x00>');
    expect(tok.idToToken(258)).toBe('<0xFF>');
    // Reading to EOF finds the same 512 pieces (the file stores no count).
    expect(parseLlama2cTokenizer(tokBytes).vocabSize).toBe(512);
  });

  it('encodes the reference prompt "Zoo" to its published ids', () => {
    expect(tok.encode(greedy.prompt, { addBos: true })).toEqual(greedy.prompt_ids);
    expect(greedy.prompt_ids).toEqual([1, 410, 469, 347]);
    // BOS is llama2.c's default.
    expect(tok.encode('Zoo')).toEqual([1, 410, 469, 347]);
    expect(tok.encode('Zoo', { addBos: false, addEos: true })).toEqual([410, 469, 347, 2]);
    expect(tok.encode('', { addBos: true })).toEqual([1]);
  });

  it('decodes the reference greedy ids (BOS first) to the reference text', () => {
    expect(greedy.greedy_ids[0]).toBe(1);
    // The reference text starts with "Zoo", not " Zoo": run.c strips the
    // leading space of the piece after BOS and never prints BOS itself.
    expect(greedy.greedy_text.startsWith('Zoo was')).toBe(true);
    expect(tok.decode(greedy.greedy_ids)).toBe(greedy.greedy_text);
  });

  it('gives the per-document token counts of the perplexity reference', () => {
    const text = readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8');
    const docs = text
      .split(/^<\|endoftext\|>$/m)
      .map((d) => d.trim())
      .filter((d) => d.length > 0);
    expect(docs.map((d) => tok.encode(d, { addBos: true }).length)).toEqual(
      ppl.per_document.map((d) => d.n_tokens_incl_bos),
    );
    expect(ppl.per_document.map((d) => d.n_tokens_incl_bos)).toEqual([374, 330, 223, 425, 457]);
    // Same ids as a literal port of run.c's merge loop (first two documents, to stay fast).
    for (const d of docs.slice(0, 2)) expect(tok.encode(d)).toEqual(runCEncode(d));
  });

  it('uses byte fallback for characters not in the vocabulary and round-trips them', () => {
    const s = 'He said “hi” 🦊 — ünïcödé 日本';
    const ids = tok.encode(s);
    // 🦊 is U+1F98A = F0 9F A6 8A in UTF-8; each byte b is id b + 3.
    const fox = [0xf0, 0x9f, 0xa6, 0x8a].map((b) => b + 3);
    const at = ids.indexOf(fox[0]);
    expect(ids.slice(at, at + 4)).toEqual(fox);
    expect(tok.decode(ids)).toBe(s);
    expect(ids).toEqual(runCEncode(s));
  });

  it('rejects malformed files with E_TOKENIZER naming the piece', () => {
    expectTokenizerError(() => parseLlama2cTokenizer(new Uint8Array(2), { file: 'x.bin' }), /x\.bin.*too short/);
    // Truncated in the middle of the file: piece bytes run past the end.
    expectTokenizerError(() => parseLlama2cTokenizer(tokBytes.subarray(0, 1000), { file: 'cut.bin' }), /cut\.bin.*piece \d+/);
    // Too few pieces for the requested vocabulary.
    expectTokenizerError(() => parseLlama2cTokenizer(tokBytes, { vocabSize: 513 }), /piece 512/);
    // A negative length on piece 0.
    const neg = tokBytes.slice();
    new DataView(neg.buffer).setInt32(8, -5, true);
    expectTokenizerError(() => parseLlama2cTokenizer(neg, { file: 'neg.bin' }), /piece 0 has negative length -5/);
    // A length past the end on piece 1.
    const big = tokBytes.slice();
    const piece0Len = new DataView(big.buffer).getInt32(8, true);
    new DataView(big.buffer).setInt32(4 + 8 + piece0Len + 4, 1 << 20, true);
    expectTokenizerError(() => parseLlama2cTokenizer(big), /piece 1 of length 1048576/);
    expectTokenizerError(() => tok.decode([512]), /outside/);
  });

  it('loads from a path and reports missing files as E_NOT_FOUND', async () => {
    expect((await loadLlama2cTokenizer(tokPath)).encode('Zoo')).toEqual([1, 410, 469, 347]);
    await expect(loadLlama2cTokenizer('/nonexistent/tok.bin')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
