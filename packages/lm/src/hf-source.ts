/**
 * The Hugging Face folder weight source: `config.json` plus one
 * `model.safetensors` or shards listed in `model.safetensors.index.json`,
 * read lazily through `@sparq/format`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensorsModel } from '@sparq/format';
import { SparqError } from '@sparq/tensor';
import type { ModelConfig } from './config';
import { parseHfConfig } from './hf-config';
import type { WeightSource } from './weight-source';

/** Reads and parses `<folder>/config.json`; `E_NOT_FOUND` / `E_CONFIG` on failure. */
export async function readHfConfig(folder: string): Promise<ModelConfig> {
  const file = join(folder, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SparqError('E_NOT_FOUND', `no config.json in "${folder}"`, { details: { file }, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SparqError('E_CONFIG', `${file}: invalid JSON (${(e as Error).message})`, { details: { file }, cause: e });
  }
  return parseHfConfig(json, file);
}

/** Opens the safetensors weights of an HF folder as a lazy {@link WeightSource}. */
export async function openHfWeights(folder: string): Promise<WeightSource> {
  const st = await openSafetensorsModel(folder);
  return {
    kind: 'hf',
    path: folder,
    names: () => st.names(),
    has: (name) => st.has(name),
    info(name) {
      const i = st.info(name);
      return { name: i.name, dtype: i.dtype, shape: i.shape };
    },
    read: (name) => st.read(name),
    close: async () => {
      await st.close();
    },
  };
}
