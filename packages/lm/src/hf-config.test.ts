import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SparqError } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { parseHfConfig } from './hf-config';

const tiny = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(sharedPath('reference', 'tiny', name), 'config.json'), 'utf8')) as Record<string, unknown>;

function err(f: () => unknown): SparqError {
  try {
    f();
  } catch (e) {
    if (e instanceof SparqError) return e;
    throw e;
  }
  throw new Error('expected a SparqError');
}

describe('parseHfConfig', () => {
  it('normalises a llama3 config with rope scaling, GQA and tied embeddings', () => {
    const c = parseHfConfig(tiny('llama3-rope'), 'config.json');
    expect(c).toMatchObject({
      architecture: 'llama', hiddenSize: 64, intermediateSize: 160, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
      vocabSize: 256, norm: 'rms', ropeTheta: 500000, tieWordEmbeddings: true, qkvBias: false, gatedMlp: true, activation: 'silu',
      bosId: 1, eosIds: [2], sourceDtype: 'bfloat16',
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 },
    });
  });

  it('reads Qwen2 biases, Mistral windows, OPT and GPT-2 conventions', () => {
    expect(parseHfConfig(tiny('qwen2'), 'c')).toMatchObject({ qkvBias: true, outBias: false, normEps: 1e-6, slidingWindow: undefined });
    expect(parseHfConfig(tiny('mistral'), 'c')).toMatchObject({ architecture: 'mistral', slidingWindow: 8 });
    // OPT and GPT-2 configs have no tie_word_embeddings key: HF's default is true.
    expect(parseHfConfig(tiny('opt'), 'c')).toMatchObject({ architecture: 'opt', norm: 'layer', positionOffset: 2, tieWordEmbeddings: true, activation: 'relu', intermediateSize: 128, ropeTheta: undefined });
    expect(parseHfConfig(tiny('gpt2'), 'c')).toMatchObject({ architecture: 'gpt2', intermediateSize: 256, activation: 'gelu_new', tieWordEmbeddings: true, maxPositions: 128 });
  });

  it('names the file and the key when one is missing', () => {
    const j = tiny('llama-gqa');
    delete j.hidden_size;
    const e = err(() => parseHfConfig(j, '/m/config.json'));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toContain('/m/config.json');
    expect(e.message).toContain('hidden_size');
  });

  it('lists the supported model types for an unknown one', () => {
    const e = err(() => parseHfConfig({ model_type: 'bert' }, 'config.json'));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toMatch(/"bert".*llama, mistral, qwen2, opt, gpt2/);
  });

  it('rejects unknown rope scaling types clearly', () => {
    const j = { ...tiny('llama-gqa'), rope_scaling: { rope_type: 'yarn', factor: 4 } };
    const e = err(() => parseHfConfig(j, 'config.json'));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toContain('yarn');
  });
});

describe('llamaHfConfig', () => {
  it('round-trips through parseHfConfig (the stories260K llama2.c config)', async () => {
    const { llama2cConfig, parseLlama2cHeader } = await import('./llama2c');
    const { readFileSync } = await import('node:fs');
    const { sharedPath } = await import('@sparq/test-utils');
    const { llamaHfConfig } = await import('./hf-config');
    const bin = readFileSync(sharedPath('models', 'stories260K', 'stories260K.bin'));
    const c = llama2cConfig(parseLlama2cHeader(new Uint8Array(bin.buffer, bin.byteOffset, 28), 'stories260K.bin'));
    const back = parseHfConfig(JSON.parse(JSON.stringify(llamaHfConfig(c))), 'config.json');
    for (const [k, v] of Object.entries(c)) expect([k, (back as unknown as Record<string, unknown>)[k]]).toEqual([k, v]);
  });
});
