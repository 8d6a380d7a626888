/**
 * Node conveniences over the container reader (`container-open.ts`): open a
 * container folder by path, and test whether a folder is one.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SPARQ_MANIFEST_FILE } from './container-manifest';
import { openSparqContainerFrom, type SparqContainer } from './container-open';
import { folderSourceSet } from './file-source';

export type { ContainerEntry, ReadOptions, SparqContainer, StoredComponent } from './container-open';

/** True when `folder` holds a `sparq.json` (a sparq container). */
export async function isSparqContainer(folder: string): Promise<boolean> {
  try {
    return (await stat(join(folder, SPARQ_MANIFEST_FILE))).isFile();
  } catch {
    return false;
  }
}

/**
 * Opens a container folder. Throws `E_NOT_FOUND` without `sparq.json` or a
 * shard, `E_FORMAT_VERSION` for an unknown version, `E_SAFETENSORS` for a
 * truncated or corrupt shard, `E_SHAPE_MISMATCH` when a weight's record
 * contradicts its tensors (incl. an N:M group not dividing the columns), and
 * `E_CONTAINER` for other inconsistencies.
 * @example
 * const c = await openSparqContainer('out/model.sparq');
 * const w = await c.readF32('model.layers.0.mlp.up_proj.weight');
 * await c.close();
 */
export function openSparqContainer(folder: string): Promise<SparqContainer> {
  return openSparqContainerFrom(folderSourceSet(folder));
}
