/**
 * End-to-end acceptance on Karpathy's stories260K: greedy generation and
 * perplexity from both the HF folder and the llama2.c checkpoint, on the
 * reference backend (f64 oracle) and the cpu-wasm backend.
 */
import { readFileSync } from 'node:fs';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { createReferenceBackend, type Backend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { loadModel } from './load';
import { evaluatePerplexity } from './perplexity';

const greedyRef = JSON.parse(readFileSync(sharedPath('models', 'stories260K', 'reference-greedy-Zoo.json'), 'utf8')) as {
  prompt_ids: number[];
  greedy_ids: number[];
  greedy_text: string;
  logits_first_positions: number[][];
};
const pplRef = JSON.parse(readFileSync(sharedPath('models', 'stories260K', 'reference-ppl-tinystories_sample.json'), 'utf8')) as {
  n_predicted_tokens: number;
  mean_nll: number;
  ppl: number;
  per_document: { n_tokens_incl_bos: number; mean_nll: number }[];
};
const tok = sharedPath('models', 'stories260K', 'tok512.bin');
const sources = [
  ['hf folder', sharedPath('models', 'stories260K', 'hf')],
  ['llama2.c .bin', sharedPath('models', 'stories260K', 'stories260K.bin')],
] as const;

const backends: [string, Backend][] = [
  ['reference', createReferenceBackend()],
  ['cpu-wasm', createCpuWasmBackend({ threads: 2 })],
];
afterAll(async () => {
  for (const [, b] of backends) await b.dispose();
});

describe.each(backends)('stories260K on the %s backend', (bName, backend) => {
  describe.each(sources)('from the %s', (sName, path) => {
    it('greedy "Zoo" reproduces the reference tokens and first-position logits', async () => {
      const { model, tokenizer, source } = await loadModel(path, { backend, tokenizer: tok });
      expect(source.path).toBe(path);
      const ids = greedyRef.prompt_ids;
      const logits = await model.forward(ids);
      let d = 0;
      greedyRef.logits_first_positions.forEach((row, t) => row.forEach((v, j) => (d = Math.max(d, Math.abs(logits.data[t * 512 + j]! - v)))));
      console.log(`stories260K ${sName} [${bName}]: max |logit diff| positions 0-3 ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);

      const pieces: string[] = [];
      const r = await generate(model, tokenizer, 'Zoo', { maxTokens: greedyRef.greedy_ids.length - ids.length, onToken: (_id, t) => pieces.push(t) });
      expect(r.ids.slice(0, 4)).toEqual(ids);
      expect(r.ids).toEqual(greedyRef.greedy_ids);
      expect(r.newIds).toHaveLength(57);
      expect(r.fullText).toBe(greedyRef.greedy_text);
      expect('Zoo' + r.text).toBe(greedyRef.greedy_text);
      expect(pieces.join('')).toBe(r.text);
      expect(r.stats).toMatchObject({ promptTokens: 4, newTokens: 57 });
      expect(r.stats.tokensPerSecond).toBeGreaterThan(0);
      await model.dispose();
    });

    it('perplexity on tinystories_sample matches the reference', async () => {
      const { model, tokenizer } = await loadModel(path, { backend, tokenizer: tok });
      const text = readFileSync(sharedPath('data', 'tinystories', 'tinystories_sample.txt'), 'utf8');
      const progress: number[] = [];
      const r = await evaluatePerplexity(model, tokenizer, text, { seqlen: 512, docSeparator: '<|endoftext|>', onProgress: (p) => progress.push(p.done) });
      console.log(`stories260K ${sName} [${bName}]: ppl ${r.perplexity.toFixed(6)} nll ${r.nll.toFixed(8)} tokens ${r.tokens}`);
      expect(r.tokens).toBe(pplRef.n_predicted_tokens);
      expect(r.sequences).toBe(5);
      expect(progress).toEqual([1, 2, 3, 4, 5]);
      expect(Math.abs(r.perplexity - 3.5482)).toBeLessThan(1e-3);
      expect(Math.abs(r.nll - pplRef.mean_nll)).toBeLessThan(1e-5);
      r.perSequence.forEach((s, i) => {
        expect(s.tokens).toBe(pplRef.per_document[i]!.n_tokens_incl_bos - 1);
        expect(Math.abs(s.nll - pplRef.per_document[i]!.mean_nll)).toBeLessThan(1e-5);
      });
      await model.dispose();
    });
  });
});
