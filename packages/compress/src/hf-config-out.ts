/**
 * The `config.json` an output folder carries: the source folder's own file
 * verbatim when there is one, otherwise (llama2.c checkpoints) one written
 * from the normalised config so HF-style loaders find the model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { llamaHfConfig, type ModelConfig, type WeightSource } from '@sparq/lm';
import { SparqError } from '@sparq/tensor';

/** Re-exported from @sparq/lm, where the config model lives. */
export { llamaHfConfig };

/** The output's config.json object for a model read from `source`. */
export async function outputHfConfig(source: WeightSource, config: ModelConfig): Promise<Record<string, unknown>> {
  if (source.kind === 'hf') {
    const file = join(source.path, 'config.json');
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new SparqError('E_IO', `cannot read ${file}: ${(e as Error).message}`, { details: { file }, cause: e });
    }
  }
  return llamaHfConfig(config);
}
