/** Resolves a model argument, starts a backend and loads model + tokenizer. */
import { type CausalLM, type LoadedModel, loadModel, resolveModelPath } from '@sparq/lm';
import type { Backend } from '@sparq/tensor';
import { openBackend } from './backends';
import { intArg, runPacked } from './options';
import type { Io } from './output';

/** The parsed options {@link openModel} reads. */
export interface ModelRunOptions {
  model: string;
  backend: string;
  threads?: string | undefined;
  tokenizer?: string | undefined;
  offline?: boolean | undefined;
  /** Run a sparq container's compressed layers packed (default true; see {@link runPacked}). */
  packed?: boolean | undefined;
  /** `--dense`: decode a container's compressed layers to f32 at load (overrides `packed`). */
  dense?: boolean | undefined;
}

/** A loaded model with the backend it runs on; `close()` frees both. */
export interface OpenModel extends LoadedModel {
  backend: Backend;
  /** The local path the model was loaded from. */
  path: string;
  /** Block linears that run on a compressed kernel (0 unless a sparq container runs packed). */
  packedLinears: number;
  /** Block linears kept f16 / bf16 as stored (0 unless a half-precision checkpoint runs without `--dense`). */
  halfLinears: number;
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
      // Only sparq containers have packed layers, only f16 / bf16 checkpoints half ones; other sources ignore the flags.
      packed: runPacked(opts),
      halfWeights: runPacked(opts),
    });
    // Close the weight source's file handles before the backend (the model releases its backend copies).
    const close = async () => {
      await loaded.model.dispose();
      await backend.dispose();
    };
    return { ...loaded, backend, path: resolved.path, ...(await countLinears(loaded.model)), close };
  } catch (e) {
    await backend.dispose();
    throw e;
  }
}

/** Counts the block linears holding a packed or a half-precision weight (what `--packed` / `--dense` decided, as loaded). */
async function countLinears(model: CausalLM): Promise<{ packedLinears: number; halfLinears: number }> {
  let packedLinears = 0;
  let halfLinears = 0;
  for (let i = 0; i < model.numBlocks; i++) {
    const w = await model.loadBlock(i);
    for (const l of [w.q, w.k, w.v, w.o, w.gate, w.up, w.down]) {
      if (l?.packed) packedLinears++;
      else if (l?.half) halfLinears++;
    }
  }
  return { packedLinears, halfLinears };
}
