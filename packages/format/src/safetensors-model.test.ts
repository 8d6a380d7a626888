import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Tensor, type SparqError } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensorsModel } from './safetensors-model';
import { decodeIndependently, makeTempDir, rejection } from './safetensors-test-helpers';
import { writeSafetensors } from './safetensors-write';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await makeTempDir()));
afterAll(() => cleanup());

const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];

/** A folder `name` in the temp dir holding the given files. */
async function folderWith(name: string, files: Record<string, string | { copyOf: string }>): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  for (const [f, content] of Object.entries(files)) {
    if (typeof content === 'string') await writeFile(join(folder, f), content);
    else await copyFile(content.copyOf, join(folder, f));
  }
  return folder;
}

async function failure(folder: string): Promise<SparqError> {
  return rejection(openSafetensorsModel(folder));
}

describe('openSafetensorsModel', () => {
  it('reads a sharded model through its index, matching the single-file model', async () => {
    const folder = sharedPath('reference', 'tiny', 'llama-gqa-sharded');
    const model = await openSafetensorsModel(folder);
    const single = await openSafetensorsModel(sharedPath('reference', 'tiny', 'llama-gqa'));
    try {
      expect(model.files.map((f) => basename(f))).toEqual(SHARDS);
      expect(model.names()).toHaveLength(21);
      expect(new Set(model.names())).toEqual(new Set(single.names()));
      expect(basename(model.info('lm_head.weight').file)).toBe(SHARDS[1]);
      expect(basename(model.info('model.embed_tokens.weight').file)).toBe(SHARDS[0]);
      // Shards store data in reverse order of their (alphabetical) header keys;
      // compare every tensor with an independent decode of its shard.
      const decoded = new Map([
        ...(await decodeIndependently(join(folder, SHARDS[0]!))),
        ...(await decodeIndependently(join(folder, SHARDS[1]!))),
      ]);
      for (const name of model.names()) {
        const t = await model.read(name);
        expect(Array.from(t.data as Float32Array)).toEqual(decoded.get(name)!.values);
        expect(Array.from(t.data as Float32Array)).toEqual(Array.from((await single.read(name)).data as Float32Array));
      }
    } finally {
      await model.close();
      await single.close();
    }
  });

  it('uses model.safetensors when there is no index', async () => {
    const model = await openSafetensorsModel(sharedPath('reference', 'tiny', 'gpt2'));
    expect(model.files.map((f) => basename(f))).toEqual(['model.safetensors']);
    expect(model.has('transformer.wte.weight')).toBe(true);
    const err = await rejection(model.read('transformer.wte.weigh'));
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', details: { tensor: 'transformer.wte.weigh' } });
    expect(err.message).toContain('"transformer.wte.weight"');
    expect(() => model.info('nope')).toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }));
    await model.close();
  });

  it('falls back to every *.safetensors and rejects duplicate names', async () => {
    const folder = join(dir, 'glob');
    await writeSafetensors(join(folder, 'b.safetensors'), { y: Tensor.f32([1], [2]) });
    await writeSafetensors(join(folder, 'a.safetensors'), { x: Tensor.f32([1], [1]) });
    const model = await openSafetensorsModel(folder);
    expect(model.files.map((f) => basename(f))).toEqual(['a.safetensors', 'b.safetensors']);
    expect(model.names()).toEqual(['x', 'y']);
    expect((await model.read('y')).data[0]).toBe(2);
    await model.close();

    await writeSafetensors(join(folder, 'c.safetensors'), { x: Tensor.f32([1], [3]) });
    const err = await failure(folder);
    expect(err.code).toBe('E_SAFETENSORS');
    expect(err.message).toContain('tensor "x"');
    expect(err.message).toContain('a.safetensors');
    expect(err.message).toContain('c.safetensors');
  });

  it('fails with E_NOT_FOUND for a missing or empty folder', async () => {
    expect((await failure(join(dir, 'absent'))).code).toBe('E_NOT_FOUND');
    const empty = await folderWith('empty', { 'config.json': '{}' });
    const err = await failure(empty);
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toContain(empty);
  });

  describe('index validation', () => {
    const shared = () => sharedPath('reference', 'tiny', 'llama-gqa-sharded');
    const index = (map: Record<string, string>) => JSON.stringify({ metadata: {}, weight_map: map });

    it('a missing shard is E_NOT_FOUND naming the index, shard and a tensor', async () => {
      const folder = await folderWith('missing-shard', {
        'model.safetensors.index.json': index({ 'model.norm.weight': SHARDS[1]! }),
      });
      const err = await failure(folder);
      expect(err.code).toBe('E_NOT_FOUND');
      expect(err.message).toContain('model.safetensors.index.json');
      expect(err.message).toContain(SHARDS[1]);
      expect(err.message).toContain('model.norm.weight');
    });

    it('a shard lacking its mapped tensor is E_SAFETENSORS naming index, shard and tensor', async () => {
      const folder = await folderWith('wrong-shard', {
        'model.safetensors.index.json': index({ 'model.norm.weight': SHARDS[0]! }),
        [SHARDS[0]!]: { copyOf: join(shared(), SHARDS[0]!) },
      });
      const err = await failure(folder);
      expect(err.code).toBe('E_SAFETENSORS');
      expect(err.details.tensor).toBe('model.norm.weight');
      expect(err.message).toContain('model.safetensors.index.json');
      expect(err.message).toContain(SHARDS[0]);
      expect(err.message).toContain('"model.norm.weight"');
    });

    it.each([
      ['bad-json', '{"weight_map": ', 'not valid JSON'],
      ['no-map', '{"metadata": {}}', 'missing "weight_map"'],
      ['non-string', '{"weight_map": {"a": 3}}', 'must be a shard file name'],
      ['escape', '{"weight_map": {"a": "../x.safetensors"}}', 'outside the model folder'],
    ])('a malformed index (%s) is E_SAFETENSORS naming the index', async (name, text, fragment) => {
      const folder = await folderWith(`index-${name}`, { 'model.safetensors.index.json': text });
      const err = await failure(folder);
      expect(err.code).toBe('E_SAFETENSORS');
      expect(err.message).toContain(join(folder, 'model.safetensors.index.json'));
      expect(err.message).toContain(fragment);
    });

    it('a malformed shard reports the shard file', async () => {
      const folder = await folderWith('bad-shard', {
        'model.safetensors.index.json': index({ a: 's.safetensors' }),
        's.safetensors': 'garbage!',
      });
      const err = await failure(folder);
      expect(err.code).toBe('E_SAFETENSORS');
      expect(err.details.file).toBe(join(folder, 's.safetensors'));
    });
  });
});
