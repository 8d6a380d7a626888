/**
 * Test fixture: a small compressed stories260K container built with the public
 * APIs (`@sparq/lm` loadModel → `@sparq/compress` compressModel), as a user
 * would with `sparq compress`: SparseGPT 2:4 jointly with 4-bit per-channel
 * quantization (the headline 2:4 + INT4 format), self-generated calibration.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressModel, validateRecipe } from '@sparq/compress';
import { loadModel } from '@sparq/lm';
import { createReferenceBackend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';

/** A built container: its folder, its files by name, and a cleanup. */
export interface ContainerFixture {
  folder: string;
  files: Map<string, Uint8Array>;
  cleanup(): Promise<void>;
}

/** Compresses stories260K to 2:4 + INT4 (per-channel scales) in a temp folder. */
export async function buildStoriesContainer(): Promise<ContainerFixture> {
  const root = await mkdtemp(join(tmpdir(), 'sparq-web-'));
  const folder = join(root, 'stories260K.sparq');
  const backend = createReferenceBackend();
  const { model, tokenizer } = await loadModel(sharedPath('models', 'stories260K', 'stories260K.bin'), { backend, lazy: true });
  try {
    await compressModel({
      model,
      tokenizer,
      // stories260K's layers read 64 or 172 = 4·43 inputs: per-channel scales (group -1) fit every layer.
      recipe: validateRecipe({ stages: [{ type: 'joint', pattern: '2:4', bits: 4, group: -1 }], calibration: { source: 'self', samples: 4, seqlen: 32, seed: 0 } }),
      out: folder,
      tokenizerFiles: [sharedPath('models', 'stories260K', 'tok512.bin')],
    });
  } finally {
    await model.dispose();
  }
  const files = new Map<string, Uint8Array>();
  for (const f of await readdir(folder)) files.set(f, new Uint8Array(await readFile(join(folder, f))));
  return { folder, files, cleanup: () => rm(root, { recursive: true, force: true }) };
}
