import { createReferenceBackend, SparqError } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectModel, loadModel } from './load';

const backend = createReferenceBackend();
afterAll(() => backend.dispose());

describe('loadModel', () => {
  it('finds tok512.bin beside a llama2.c checkpoint', async () => {
    const progress: number[] = [];
    const r = await loadModel(sharedPath('models', 'stories260K', 'stories260K.bin'), { backend, onProgress: (p) => progress.push(p.done) });
    expect(r.source.kind).toBe('llama2c');
    expect(r.tokenizer.vocabSize).toBe(512);
    expect(r.tokenizer.encode('Zoo')).toEqual([1, 410, 469, 347]);
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    await r.model.dispose();
  });

  it('says to pass --tokenizer when an HF folder has none', async () => {
    const e = await loadModel(sharedPath('models', 'stories260K', 'hf'), { backend }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SparqError);
    expect((e as SparqError).code).toBe('E_NOT_FOUND');
    expect((e as SparqError).hint).toContain('--tokenizer');
  });

  it('rejects a path that is not a model', async () => {
    await expect(loadModel(sharedPath('MANIFEST.md'), { backend })).rejects.toMatchObject({ code: 'E_ARG' });
    await expect(loadModel('/nonexistent/model', { backend })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('inspectModel', () => {
  it.each([
    ['hf', sharedPath('models', 'stories260K', 'hf')],
    ['llama2c', sharedPath('models', 'stories260K', 'stories260K.bin')],
  ])('reports stories260K (%s) from headers: 260,032 parameters, 47 tensors', async (kind, path) => {
    const info = await inspectModel(path);
    expect(info.source.kind).toBe(kind);
    expect(info.architecture).toBe('llama');
    expect(info.parameterCount).toBe(260032);
    expect(info.tensors).toHaveLength(47);
    expect(info.tensors.find((t) => t.name === 'model.layers.0.mlp.gate_proj.weight')).toEqual({ name: 'model.layers.0.mlp.gate_proj.weight', shape: [172, 64], dtype: 'f32' });
  });

  it('reports the sharded tiny llama and its storage dtype', async () => {
    const info = await inspectModel(sharedPath('reference', 'tiny', 'llama-gqa-sharded'));
    expect(info.tensors.some((t) => t.name === 'lm_head.weight')).toBe(true);
    const bf = await inspectModel(sharedPath('reference', 'tiny', 'llama3-rope'));
    expect(bf.tensors.every((t) => t.dtype === 'bf16')).toBe(true);
  });
});
