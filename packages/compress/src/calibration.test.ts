import { readFileSync } from 'node:fs';
import { loadModel, type CausalLM, type Tokenizer } from '@sparq/lm';
import { createReferenceBackend, createRng } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSelfCalibration, sampleTextCalibration } from './calibration';

const backend = createReferenceBackend();
let model: CausalLM;
let tokenizer: Tokenizer;
beforeAll(async () => {
  ({ model, tokenizer } = await loadModel(sharedPath('models', 'stories260K', 'hf'), {
    backend,
    tokenizer: sharedPath('models', 'stories260K', 'tok512.bin'),
    lazy: true,
  }));
});
afterAll(async () => {
  await model.dispose();
  await backend.dispose();
});

describe('text calibration', () => {
  it('takes seeded random windows of the tokenized text, BOS first (independent re-derivation of the protocol)', () => {
    const text = readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8');
    const c = sampleTextCalibration(tokenizer, text, { samples: 6, seqlen: 40, seed: 7 }, 'sample.txt', 512);
    expect(c.source).toBe('text');
    expect(c.bos).toBe(true);
    const ids = tokenizer.encode(text.replace(/\r\n/g, '\n'), { addBos: false });
    expect(c.textTokens).toBe(ids.length);
    const rng = createRng(7);
    const expected = Array.from({ length: 6 }, () => {
      const off = rng.int(ids.length - 39 + 1);
      return [1, ...ids.slice(off, off + 39)];
    });
    expect(c.ids).toEqual(expected);
    expect(c.description).toContain('6 × 40 tokens, random windows of sample.txt');
    expect(sampleTextCalibration(tokenizer, text, { samples: 6, seqlen: 40, seed: 8 }, 'sample.txt', 512).ids).not.toEqual(c.ids);
  });

  it('rejects a text shorter than one window and a seqlen beyond the model', () => {
    expect(() => sampleTextCalibration(tokenizer, 'Once upon a time', { samples: 1, seqlen: 64, seed: 0 }, 'tiny.txt', 512)).toThrow(
      expect.objectContaining({ code: 'E_ARG', message: expect.stringMatching(/tiny\.txt has \d+ tokens, fewer than one window of 63/) }),
    );
    expect(() => sampleTextCalibration(tokenizer, 'x', { samples: 1, seqlen: 600, seed: 0 }, 'x.txt', 512)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});

describe('self calibration', () => {
  it('samples seqlen tokens per sequence from the dense model, BOS first, reproducibly per seed', async () => {
    const a = await sampleSelfCalibration(model, tokenizer, { samples: 2, seqlen: 12, seed: 1 });
    expect(a.source).toBe('self');
    expect(a.ids).toHaveLength(2);
    for (const s of a.ids) {
      expect(s).toHaveLength(12);
      expect(s[0]).toBe(tokenizer.bosId);
      for (const id of s) expect(id >= 0 && id < 512).toBe(true);
    }
    expect((await sampleSelfCalibration(model, tokenizer, { samples: 2, seqlen: 12, seed: 1 })).ids).toEqual(a.ids);
    expect((await sampleSelfCalibration(model, tokenizer, { samples: 2, seqlen: 12, seed: 2 })).ids).not.toEqual(a.ids);
    for (let i = 0; i < model.numBlocks; i++) expect(model.isBlockLoaded(i)).toBe(false);
  });

  it('draws each token from softmax(logits) at temperature 1 with the one seeded RNG', async () => {
    // Independent re-derivation for the first sampled token: inverse-CDF over the float64 softmax.
    const a = await sampleSelfCalibration(model, tokenizer, { samples: 1, seqlen: 2, seed: 5 });
    const logits = (await model.forward([1])).data;
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    const p = Array.from(logits, (v) => Math.exp(v - max));
    const order = p.map((_, i) => i).sort((x, y) => p[y]! - p[x]! || x - y);
    let u = createRng(5).float() * p.reduce((s, v) => s + v, 0);
    let pick = order[order.length - 1]!;
    for (const i of order) {
      u -= p[i]!;
      if (u < 0) {
        pick = i;
        break;
      }
    }
    expect(a.ids[0]).toEqual([1, pick]);
  });
});
