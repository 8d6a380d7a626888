/**
 * `openSafetensors(path)`: the lazy safetensors reader (`safetensors-source.ts`)
 * over a local file. Node only.
 */
import { openFileSource } from './file-source';
import { openSafetensorsSource, type SafetensorsFile } from './safetensors-source';

export type { SafetensorsFile } from './safetensors-source';

/**
 * Opens a safetensors file and validates its header (sizes, dtypes, offsets,
 * metadata) without reading tensor data.
 * Throws `E_NOT_FOUND` for a missing file, `E_IO` when it cannot be read and
 * `E_SAFETENSORS` when it is malformed.
 * @example
 * const f = await openSafetensors('model.safetensors');
 * try {
 *   const w = await f.read('model.embed_tokens.weight');
 * } finally {
 *   await f.close();
 * }
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  return openSafetensorsSource(await openFileSource(path, 'open safetensors file'));
}
