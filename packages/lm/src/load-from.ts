/**
 * Loading a sparq container and its tokenizer from any set of named byte
 * sources — files picked in a browser, a base URL, bytes in memory — with no
 * file system: the browser counterpart of `loadModel(folder)`.
 */
import { openSparqContainerFrom, SPARQ_MANIFEST_FILE, type ByteSourceSet } from '@sparq/format';
import { SparqError, type Backend } from '@sparq/tensor';
import { containerWeightSource } from './container-source';
import { parseHfConfig } from './hf-config';
import { CausalLM } from './model';
import type { LoadedModel, LoadProgress } from './model-source';
import { loadTokenizerFrom } from './tokenizer/from-files';

/** Options of {@link loadModelFrom}. */
export interface LoadModelFromOptions {
  /** Backend that runs the matmuls (and, where it has them, the model kernels). */
  backend: Backend;
  /**
   * Keep compressed linears packed and run them through the backend's
   * compressed kernels instead of decoding them to f32 at load (default
   * false, as for `loadModel`; a browser demo wants true: packed bytes on the
   * device instead of a decoded f32 copy).
   */
  packed?: boolean;
  /** Leave blocks unread until first use (default false: read every block now, reporting progress). */
  lazy?: boolean;
  /** Called after each block is loaded (when not lazy). */
  onProgress?(p: LoadProgress): void;
}

/**
 * Opens the sparq container in `files` (its `sparq.json`, the shards it names
 * and the tokenizer files it lists) and builds the model on `opts.backend`.
 * The config is the manifest's `architecture` (the same object the
 * container's `config.json` holds). Throws the container reader's errors,
 * `E_CONFIG` for a container without an architecture, and `E_NOT_FOUND`
 * when it lists no tokenizer.
 * @example
 * const files = byteSourceSet('picked', [...input.files].map((f) => blobSource(f)));
 * const { model, tokenizer } = await loadModelFrom(files, { backend, packed: true });
 * const r = await generate(model, tokenizer, 'Once upon a time', { maxTokens: 32 });
 */
export async function loadModelFrom(files: ByteSourceSet, opts: LoadModelFromOptions): Promise<LoadedModel> {
  const container = await openSparqContainerFrom(files);
  const source = containerWeightSource(container, { packed: opts.packed ?? false });
  try {
    const arch = container.manifest.architecture;
    const where = `${files.location} (${SPARQ_MANIFEST_FILE})`;
    if (arch === null) {
      throw new SparqError('E_CONFIG', `${where} has no "architecture": it holds weights but not a runnable model`, {
        details: { file: files.location },
        hint: 'export the container from a model (sparq compress) so that its config is recorded',
      });
    }
    const config = parseHfConfig(arch, where);
    const tokenizer = await loadTokenizerFrom(files, container.manifest.tokenizer_files, { vocabSize: config.vocabSize });
    const model = new CausalLM(config, source, opts.backend);
    if (!opts.lazy) await model.loadAll(opts.onProgress);
    return { model, tokenizer, source: { kind: 'sparq', path: files.location } };
  } catch (e) {
    await source.close();
    throw e;
  }
}
