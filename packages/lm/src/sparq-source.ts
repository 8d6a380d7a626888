/**
 * A sparq container folder as a lazy {@link WeightSource} (Node): the folder
 * is HF-shaped (`config.json`, tokenizer files, safetensors shards), and every
 * logical weight is read by its HF name — see `container-source.ts`.
 */
import { openSparqContainer } from '@sparq/format';
import { containerWeightSource, type SparqWeightSource } from './container-source';

export type { SparqWeightSource } from './container-source';

/**
 * Opens the container in `folder` as a weight source. Its `kind` is `'hf'`
 * because the folder follows the HF layout (config and tokenizer beside the
 * weights); packed weights report dtype `f32`, the dtype they decode to.
 * @example
 * const src = await openSparqWeights('out/stories260K.sparq');
 * const wq = await src.read('model.layers.0.self_attn.q_proj.weight'); // f32, decoded
 */
export async function openSparqWeights(folder: string, opts: { packed?: boolean } = {}): Promise<SparqWeightSource> {
  return containerWeightSource(await openSparqContainer(folder), opts);
}
