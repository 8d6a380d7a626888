/**
 * A sparq container as a lazy {@link WeightSource}: the folder is HF-shaped
 * (`config.json`, tokenizer files, safetensors shards), and every logical
 * weight is read by its HF name — plain tensors as stored, packed weights
 * decoded to f32 on read (docs/format.md §10). Models therefore run on a
 * container unchanged; compressed kernels can take the packed structure from
 * `container.readPacked` instead.
 */
import { openSparqContainer, type SparqContainer } from '@sparq/format';
import type { PackedMatrix } from '@sparq/tensor';
import type { WeightSource } from './weight-source';

/** A {@link WeightSource} over a sparq container, with the container itself for packed access. */
export interface SparqWeightSource extends WeightSource {
  /** The open container (packed weights, manifest, accounting, checksums). */
  readonly container: SparqContainer;
}

/**
 * Opens the container in `folder` as a weight source. Its `kind` is `'hf'`
 * because the folder follows the HF layout (config and tokenizer beside the
 * weights); packed weights report dtype `f32`, the dtype they decode to.
 * @example
 * const src = await openSparqWeights('out/stories260K.sparq');
 * const wq = await src.read('model.layers.0.self_attn.q_proj.weight'); // f32, decoded
 */
export async function openSparqWeights(folder: string, opts: { packed?: boolean } = {}): Promise<SparqWeightSource> {
  const container = await openSparqContainer(folder);
  // Packed execution: quant / N:M / N:M+quant / SpQR weights go to the compressed kernels as stored; bitmask
  // (unstructured) weights have no kernel and are decoded like plain tensors.
  const readPacked = async (name: string): Promise<PackedMatrix | undefined> => {
    const kind = container.entry(name).kind;
    if (kind !== 'quant' && kind !== 'nm' && kind !== 'nm-quant' && kind !== 'spqr') return undefined;
    const p = await container.readPacked(name);
    return p.kind === 'bitmask' ? undefined : p;
  };
  return {
    ...(opts.packed ? { readPacked } : {}),
    kind: 'hf',
    path: folder,
    container,
    names: () => container.names(),
    has: (name) => container.has(name),
    info(name) {
      const e = container.entry(name);
      return { name, dtype: e.dtype, shape: e.shape };
    },
    read: (name) => container.readTensor(name),
    close: () => container.close(),
  };
}
