/**
 * Model entry points: `loadModel` (an HF folder or a llama2.c `.bin`, plus its
 * tokenizer) and `inspectModel` (architecture, config and tensor list from
 * headers only).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SparqError, Tensor, type Backend, type DType } from '@sparq/tensor';
import type { ModelConfig } from './config';
import { openHfWeights, readHfConfig } from './hf-source';
import { openLlama2cCheckpoint } from './llama2c';
import { CausalLM } from './model';
import { openSparqWeights } from './sparq-source';
import type { LoadedModel, LoadProgress, ModelSource } from './model-source';
import { findTokenizerInFolder, loadTokenizer } from './tokenizer/index';
import type { WeightSource } from './weight-source';

export type { LoadedModel, LoadProgress, ModelSource } from './model-source';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Backend that runs the matmuls. */
  backend: Backend;
  /** Tokenizer file or folder; overrides the one found beside the model. */
  tokenizer?: string;
  /**
   * Leave blocks on disk until first use (default false: load every block now,
   * reporting progress). Use true for layer-by-layer walks of large models.
   */
  lazy?: boolean;
  /**
   * Sparq containers: keep compressed linears packed in memory and run them
   * through the backend's compressed kernels (`matmulQuant`, `matmulNM`, …)
   * instead of decoding them to f32 at load. Default false.
   */
  packed?: boolean;
  /**
   * Keep the linear weights, token embedding and LM head that the checkpoint
   * stores as f16 / bf16 in half precision (half the memory of f32) and run
   * them through the backend's `matmulDense` as stored (embedding rows are
   * widened on lookup), when the backend accepts half-precision weights;
   * otherwise (and by default) they are widened to f32 at load. The widening
   * is exact either way; `@sparq/backend-cpu-wasm` gives bit-identical results.
   */
  halfWeights?: boolean;
  /** Called after each block is loaded (when not lazy). */
  onProgress?(p: LoadProgress): void;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch (e) {
    throw new SparqError('E_NOT_FOUND', `model path "${p}" does not exist`, { details: { file: p }, cause: e });
  }
}

const NOT_A_MODEL_HINT = 'pass a Hugging Face folder (config.json + *.safetensors) or a llama2.c .bin checkpoint';

/** Whether `backend`'s `matmulDense` takes f16 and bf16 weights (asked with 1 × 1 operands). */
function acceptsHalfWeights(backend: Backend): boolean {
  const a = new Tensor('f32', [1, 1], new Float32Array(1));
  return (['f16', 'bf16'] as const).every((d) => backend.supports('matmulDense', { a, b: new Tensor(d, [1, 1], new Uint16Array(1)) }, { transposeB: true }) === true);
}

/** Opens the weights and config of a model path (no tokenizer). */
async function openWeights(path: string, packed = false): Promise<{ config: ModelConfig; source: WeightSource }> {
  if (isDir(path)) {
    const config = await readHfConfig(path);
    if (existsSync(join(path, 'sparq.json'))) return { config, source: await openSparqWeights(path, { packed }) };
    return { config, source: await openHfWeights(path) };
  }
  if (!path.endsWith('.bin')) {
    throw new SparqError('E_ARG', `"${path}" is neither a model folder nor a llama2.c .bin checkpoint`, { details: { file: path }, hint: NOT_A_MODEL_HINT });
  }
  const { config, source } = await openLlama2cCheckpoint(path);
  return { config, source };
}

/** The {@link ModelSource} kind of an open source (a container reports itself as HF-shaped). */
function sourceKind(source: WeightSource): ModelSource['kind'] {
  return 'container' in source ? 'sparq' : source.kind;
}

/** A llama2.c checkpoint's tokenizer beside it: `tokenizer.bin`, else a single `tok*.bin`. */
function llama2cTokenizerBeside(file: string): string | undefined {
  const dir = dirname(file);
  const names = readdirSync(dir);
  if (names.includes('tokenizer.bin')) return join(dir, 'tokenizer.bin');
  const tok = names.filter((n) => /^tok.*\.bin$/.test(n) && join(dir, n) !== file);
  return tok.length === 1 ? join(dir, tok[0]!) : undefined;
}

/**
 * Loads a model and its tokenizer.
 *
 * - A folder with `config.json` + safetensors (single or sharded): its own
 *   tokenizer is found with `findTokenizerInFolder` unless `tokenizer` is given.
 * - A sparq container (such a folder plus `sparq.json`): the same, with
 *   packed weights decoded to f32 as they are read.
 * - A llama2.c `.bin` checkpoint: tokenizer from the option, else
 *   `tokenizer.bin` or a single `tok*.bin` beside it.
 *
 * No tokenizer found and none given → `E_NOT_FOUND` (hint: pass --tokenizer).
 * @example
 * const { model, tokenizer } = await loadModel('models/stories260K/stories260K.bin', { backend });
 * const r = await generate(model, tokenizer, 'Zoo', { maxTokens: 20 });
 */
export async function loadModel(path: string, opts: LoadModelOptions): Promise<LoadedModel> {
  const { config, source } = await openWeights(path, opts.packed ?? false);
  try {
    let tokPath = opts.tokenizer;
    if (tokPath === undefined) tokPath = source.kind === 'hf' ? findTokenizerInFolder(path) : llama2cTokenizerBeside(path);
    if (tokPath === undefined) {
      throw new SparqError('E_NOT_FOUND', `no tokenizer found ${source.kind === 'hf' ? `in "${path}"` : `beside "${path}"`}`, {
        details: { file: path },
        hint: 'pass the tokenizer file with --tokenizer (tokenizer.json, vocab.json + merges.txt, or a llama2.c tokenizer.bin)',
      });
    }
    const tokenizer = await loadTokenizer(tokPath, { vocabSize: config.vocabSize });
    if (opts.halfWeights && acceptsHalfWeights(opts.backend)) source.halfWeights = true;
    const model = new CausalLM(config, source, opts.backend);
    if (!opts.lazy) await model.loadAll(opts.onProgress);
    return { model, tokenizer, source: { kind: sourceKind(source), path } };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** One tensor as stored. */
export interface TensorSummary {
  name: string;
  shape: readonly number[];
  dtype: DType;
}

/** What {@link inspectModel} reports. */
export interface ModelInspection {
  architecture: ModelConfig['architecture'];
  config: ModelConfig;
  source: ModelSource;
  /** Total elements of every stored tensor (llama2.c's legacy RoPE tables excluded). */
  parameterCount: number;
  tensors: TensorSummary[];
}

/**
 * Describes a model from its config and tensor headers, without reading weights.
 * @example
 * const info = await inspectModel('models/stories260K/hf'); // info.parameterCount === 260032
 */
export async function inspectModel(path: string): Promise<ModelInspection> {
  const { config, source } = await openWeights(path);
  try {
    const tensors = source.names().map((name) => {
      const i = source.info(name);
      return { name, shape: i.shape, dtype: i.dtype };
    });
    const parameterCount = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    return { architecture: config.architecture, config, source: { kind: sourceKind(source), path }, parameterCount, tensors };
  } finally {
    await source.close();
  }
}
