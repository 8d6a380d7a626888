import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { createReferenceBackend, type Backend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { CausalLM } from './model';
import { openHfWeights, readHfConfig } from './hf-source';

interface Reference {
  input_ids: number[];
  logits: number[][];
  mean_nll: number;
}

const backends: [string, Backend][] = [
  ['reference', createReferenceBackend()],
  ['cpu-wasm', createCpuWasmBackend({ threads: 2 })],
];
afterAll(async () => {
  for (const [, b] of backends) await b.dispose();
});
const backend = backends[0]![1];

async function load(name: string, b: Backend = backend): Promise<{ model: CausalLM; ref: Reference }> {
  const dir = sharedPath('reference', 'tiny', name);
  const config = await readHfConfig(dir);
  const model = new CausalLM(config, await openHfWeights(dir), b);
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
  return { model, ref };
}

function meanNll(logits: Float32Array, ids: number[], V: number): number {
  let s = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, logits[t * V + j]!);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[t * V + j]! - max);
    s += max + Math.log(z) - logits[t * V + ids[t + 1]!]!;
  }
  return s / (ids.length - 1);
}

function maxDiff(logits: Float32Array, ref: number[][]): number {
  const V = ref[0]!.length;
  let m = 0;
  ref.forEach((row, t) => row.forEach((v, j) => (m = Math.max(m, Math.abs(logits[t * V + j]! - v)))));
  return m;
}

describe.each(['llama-gqa', 'llama-gqa-sharded', 'llama3-rope', 'qwen2', 'mistral', 'opt', 'gpt2'])('tiny %s', (name) => {
  it.each(backends)('matches the float64 reference logits and mean NLL (%s backend)', async (bName, b) => {
    const { model, ref } = await load(name, b);
    const logits = await model.forward(ref.input_ids);
    expect(logits.shape).toEqual([12, 256]);
    const d = maxDiff(logits.data, ref.logits);
    const nll = meanNll(logits.data, ref.input_ids, 256);
    console.log(`${name} [${bName}]: max |logit diff| ${d.toExponential(2)}, |mean NLL diff| ${Math.abs(nll - ref.mean_nll).toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
    expect(Math.abs(nll - ref.mean_nll)).toBeLessThan(1e-5);
    await model.dispose();
  });

  it('gives the same logits token by token through the KV cache', async () => {
    const { model, ref } = await load(name);
    const full = await model.forward(ref.input_ids);
    const cache = model.createCache();
    const V = 256;
    let m = 0;
    // A 3-token prefill, then one token at a time.
    const first = await model.forward(ref.input_ids.slice(0, 3), cache);
    for (let i = 0; i < 3 * V; i++) m = Math.max(m, Math.abs(first.data[i]! - full.data[i]!));
    for (let t = 3; t < ref.input_ids.length; t++) {
      const step = await model.forward([ref.input_ids[t]!], cache, { lastOnly: true });
      for (let j = 0; j < V; j++) m = Math.max(m, Math.abs(step.data[j]! - full.data[t * V + j]!));
    }
    expect(cache.length).toBe(12);
    expect(m).toBeLessThan(1e-5);
    await model.dispose();
  });
});
