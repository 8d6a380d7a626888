/**
 * An open sparq container as a lazy {@link WeightSource}, wherever its bytes
 * come from (a folder in Node, picked files or a URL in a browser): every
 * logical weight is read by its HF name — plain tensors as stored, packed
 * weights decoded to f32 on read (docs/format.md §10) — and, for packed
 * execution, compressed linears are handed to the kernels as stored.
 */
import type { SparqContainer } from '@sparq/format';
import type { PackedMatrix } from '@sparq/tensor';
import type { WeightSource } from './weight-source';

/** A {@link WeightSource} over a sparq container, with the container itself for packed access. */
export interface SparqWeightSource extends WeightSource {
  /** The open container (packed weights, manifest, accounting, checksums). */
  readonly container: SparqContainer;
}

/**
 * Wraps an open container as a weight source; closing the source closes the
 * container. Its `kind` is `'hf'` because a container follows the HF layout;
 * packed weights report dtype `f32`, the dtype they decode to. With `packed`,
 * quant / N:M / N:M+quant / SpQR weights are also offered packed
 * ({@link WeightSource.readPacked}) for the compressed kernels.
 * @example
 * const src = containerWeightSource(await openSparqContainerFrom(files), { packed: true });
 */
export function containerWeightSource(container: SparqContainer, opts: { packed?: boolean } = {}): SparqWeightSource {
  // Bitmask (unstructured) weights have no kernel and are decoded like plain tensors.
  const readPacked = async (name: string): Promise<PackedMatrix | undefined> => {
    const kind = container.entry(name).kind;
    if (kind !== 'quant' && kind !== 'nm' && kind !== 'nm-quant' && kind !== 'spqr') return undefined;
    const p = await container.readPacked(name);
    return p.kind === 'bitmask' ? undefined : p;
  };
  return {
    ...(opts.packed ? { readPacked } : {}),
    kind: 'hf',
    path: container.folder,
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
