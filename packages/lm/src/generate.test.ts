import { createReferenceBackend, createRng } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { loadModel, type LoadedModel } from './load';
import { argmax, sampleToken } from './sampling';

const backend = createReferenceBackend();
let m: LoadedModel;
beforeAll(async () => {
  m = await loadModel(sharedPath('models', 'stories260K', 'stories260K.bin'), { backend });
});
afterAll(async () => {
  await m.model.dispose();
  await backend.dispose();
});

describe('sampling', () => {
  it('argmax takes the lowest id on ties', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
  });

  it('top-k 1 and a tiny top-p are greedy; temperature 0 is greedy', () => {
    const logits = [0.1, 2, 1.9, -1];
    const rng = createRng(1);
    for (let i = 0; i < 20; i++) {
      expect(sampleToken(logits, { temperature: 1, topK: 1 }, rng)).toBe(1);
      expect(sampleToken(logits, { temperature: 1, topP: 1e-6 }, rng)).toBe(1);
      expect(sampleToken(logits, { temperature: 0 }, rng)).toBe(1);
    }
  });

  it('top-k restricts the candidates and frequencies follow the softmax', () => {
    const logits = [Math.log(1), Math.log(2), Math.log(3), Math.log(4)];
    const rng = createRng(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, { temperature: 1, topK: 2 }, rng)]!++;
    expect(counts[0]).toBe(0);
    expect(counts[1]).toBe(0);
    expect(counts[3]! / 20000).toBeCloseTo(4 / 7, 1);
  });
});

describe('generate', () => {
  it('seeded sampling is reproducible and the seed matters', async () => {
    const o = { maxTokens: 20, temperature: 0.9, topK: 40, topP: 0.95 };
    const a = await generate(m.model, m.tokenizer, 'Once upon a time', { ...o, seed: 42 });
    const b = await generate(m.model, m.tokenizer, 'Once upon a time', { ...o, seed: 42 });
    const c = await generate(m.model, m.tokenizer, 'Once upon a time', { ...o, seed: 43 });
    expect(b.ids).toEqual(a.ids);
    expect(b.text).toBe(a.text);
    expect(c.ids).not.toEqual(a.ids);
  });

  it('streams each token through onToken and stops at EOS unless told not to', async () => {
    // With this seed stories260K ends its story after ~190 tokens by emitting BOS (id 1), run.c's stop rule.
    const o = { temperature: 0.8, seed: 3 };
    const streamed: number[] = [];
    const r = await generate(m.model, m.tokenizer, 'Once upon a time', { ...o, maxTokens: 400, onToken: (id) => streamed.push(id) });
    expect(streamed).toEqual(r.newIds);
    const eos = r.newIds.findIndex((id) => id === 1 || id === 2);
    expect(eos).toBeGreaterThan(0);
    expect(eos).toBeLessThan(399);
    expect(r.newIds).toHaveLength(eos + 1);
    const more = await generate(m.model, m.tokenizer, 'Once upon a time', { ...o, maxTokens: eos + 3, stopAtEos: false });
    expect(more.newIds).toHaveLength(eos + 3);
    expect(more.newIds.slice(0, eos + 1)).toEqual(r.newIds);
  });

  it('rejects bad options', async () => {
    await expect(generate(m.model, m.tokenizer, 'x', { topP: 0 })).rejects.toMatchObject({ code: 'E_ARG' });
    await expect(generate(m.model, m.tokenizer, 'x', { maxTokens: -1 })).rejects.toMatchObject({ code: 'E_ARG' });
  });
});
