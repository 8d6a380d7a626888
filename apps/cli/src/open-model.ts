/** Resolves a model argument, starts a backend and loads model + tokenizer. */
import { type LoadedModel, loadModel, resolveModelPath } from '@sparq/lm';
import type { Backend } from '@sparq/tensor';
import { openBackend } from './backends';
import { intArg } from './options';
import type { Io } from './output';

/** The parsed options {@link openModel} reads. */
export interface ModelRunOptions {
  model: string;
  backend: string;
  threads?: string | undefined;
  tokenizer?: string | undefined;
  offline?: boolean | undefined;
  packed?: boolean | undefined;
}

/** A loaded model with the backend it runs on; `close()` frees both. */
export interface OpenModel extends LoadedModel {
  backend: Backend;
  /** The local path the model was loaded from. */
  path: string;
  close(): Promise<void>;
}

/** Resolves `opts.model` (path, models folder or Hub), opens the backend, loads model and tokenizer. */
export async function openModel(opts: ModelRunOptions, io: Io): Promise<OpenModel> {
  const resolved = await resolveModelPath(opts.model, {
    ...(opts.offline ? { offline: true } : {}),
    onDownload: (file, i, n) => io.stderr(`downloading ${file} (${i + 1}/${n})\n`),
  });
  const backend = await openBackend(opts.backend, intArg('threads', opts.threads, { min: 1, max: 256 }));
  try {
    const loaded = await loadModel(resolved.path, {
      backend,
      ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
      ...(opts.packed ? { packed: true } : {}),
    });
    // Close the weight source's file handles before the backend (the model releases its backend copies).
    const close = async () => {
      await loaded.model.dispose();
      await backend.dispose();
    };
    return { ...loaded, backend, path: resolved.path, close };
  } catch (e) {
    await backend.dispose();
    throw e;
  }
}
