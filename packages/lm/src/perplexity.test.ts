import { readFileSync } from 'node:fs';
import { createReferenceBackend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from './load';
import { evaluatePerplexity } from './perplexity';

const backend = createReferenceBackend();
let m: LoadedModel;
beforeAll(async () => {
  m = await loadModel(sharedPath('models', 'stories260K', 'stories260K.bin'), { backend });
});
afterAll(async () => {
  await m.model.dispose();
  await backend.dispose();
});

/** Mean NLL of one window from full logits, independently of perplexity.ts. */
async function windowSum(ids: number[]): Promise<number> {
  const logits = (await m.model.forward(ids)).data;
  let s = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = Array.from(logits.subarray(t * 512, (t + 1) * 512));
    const max = Math.max(...row);
    s += max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0)) - row[ids[t + 1]!]!;
  }
  return s;
}

describe('evaluatePerplexity without a separator', () => {
  const text = 'Once upon a time, there was a little dog.\r\nHe liked to run in the park with his friend, a big cat.\r\n';

  it('scores non-overlapping windows (last one shorter), BOS first, CRLF as LF', async () => {
    const ids = m.tokenizer.encode(text.replace(/\r\n/g, '\n'));
    expect(ids[0]).toBe(1);
    const seqlen = 10;
    const r = await evaluatePerplexity(m.model, m.tokenizer, text, { seqlen });
    const wins: number[][] = [];
    for (let i = 0; i < ids.length; i += seqlen) wins.push(ids.slice(i, i + seqlen));
    const kept = wins.filter((w) => w.length >= 2);
    let sum = 0;
    for (const w of kept) sum += await windowSum(w);
    const tokens = kept.reduce((a, w) => a + w.length - 1, 0);
    expect(r.sequences).toBe(kept.length);
    expect(r.tokens).toBe(tokens);
    expect(r.nll).toBeCloseTo(sum / tokens, 10);
    expect(r.perplexity).toBeCloseTo(Math.exp(sum / tokens), 8);
    const lf = await evaluatePerplexity(m.model, m.tokenizer, text.replace(/\r\n/g, '\n'), { seqlen });
    expect(lf.nll).toBe(r.nll);
  });

  it('rejects a bad seqlen', async () => {
    await expect(evaluatePerplexity(m.model, m.tokenizer, text, { seqlen: 1 })).rejects.toMatchObject({ code: 'E_ARG' });
    await expect(evaluatePerplexity(m.model, m.tokenizer, text, { seqlen: 4096 })).rejects.toMatchObject({ code: 'E_ARG' });
  });
});

describe('evaluatePerplexity with a document separator', () => {
  it('drops empty documents and windows inside a long one', async () => {
    const text = readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8');
    const r = await evaluatePerplexity(m.model, m.tokenizer, `<|endoftext|>\n\n${text}\n<|endoftext|>\n`, { seqlen: 256, docSeparator: '<|endoftext|>' });
    // Documents of 374, 330, 223, 425, 457 tokens (incl. BOS) → 2 + 2 + 1 + 2 + 2 windows.
    expect(r.sequences).toBe(9);
    expect(r.tokens).toBe(1804 + 5 - 9);
  });
});
