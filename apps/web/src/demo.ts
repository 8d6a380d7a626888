/**
 * The demo's work without the DOM: load a sparq container from byte sources
 * onto a backend (packed weights, so the compressed kernels run on them) and
 * generate greedily, reporting tokens/s and weight bytes. `main.ts` wires it
 * to the page; tests can call it directly.
 */
import type { ByteSourceSet } from '@sparq/format';
import { generate, loadModelFrom, type CausalLM, type LoadProgress, type SparqWeightSource, type Tokenizer } from '@sparq/lm';
import { SparqError, type Backend } from '@sparq/tensor';
import { weightBytes, type WeightBytes } from './weight-bytes';

/** A model ready to generate. */
export interface DemoModel {
  model: CausalLM;
  tokenizer: Tokenizer;
  /** Where it was loaded from (folder label or URL). */
  location: string;
  weights: WeightBytes;
  /** `llama`, …, plus layer count and hidden size, for the page. */
  summary: string;
}

/** Loads the container in `files` onto `backend` with its compressed linears kept packed. */
export async function loadDemoModel(files: ByteSourceSet, backend: Backend, onProgress?: (p: LoadProgress) => void): Promise<DemoModel> {
  const { model, tokenizer, source } = await loadModelFrom(files, { backend, packed: true, ...(onProgress ? { onProgress } : {}) });
  const src = model.source as Partial<SparqWeightSource>;
  if (src.container === undefined) throw new SparqError('E_INTERNAL', 'loadModelFrom returned a model without its container');
  const c = model.config;
  return {
    model,
    tokenizer,
    location: source.path,
    weights: weightBytes(src.container.accounting()),
    summary: `${c.architecture}, ${c.numLayers} layers, hidden ${c.hiddenSize}, vocab ${c.vocabSize}`,
  };
}

/** Options of {@link runDemoGeneration}. */
export interface DemoGenerateOptions {
  maxTokens: number;
  /** Streams each new token's text. */
  onToken?(text: string): void;
}

/** What one generation produced and how fast. */
export interface DemoResult {
  /** New text (the prompt excluded). */
  text: string;
  promptIds: number[];
  newIds: number[];
  /** Prompt tokens per second of the prefill pass. */
  prefillTokensPerSecond: number;
  /** New tokens per second of the one-token decode passes (0 with a single new token). */
  decodeTokensPerSecond: number;
  prefillMs: number;
  decodeMs: number;
}

/** Greedy generation of up to `maxTokens` tokens after `prompt` (stops at EOS, as `generate` does). */
export async function runDemoGeneration(m: DemoModel, prompt: string, opts: DemoGenerateOptions): Promise<DemoResult> {
  if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 1) {
    throw new SparqError('E_ARG', `max tokens must be a whole number ≥ 1, found ${opts.maxTokens}`);
  }
  const r = await generate(m.model, m.tokenizer, prompt, { maxTokens: opts.maxTokens, ...(opts.onToken ? { onToken: (_id: number, t: string) => opts.onToken!(t) } : {}) });
  const s = r.stats;
  return {
    text: r.text,
    promptIds: r.ids.slice(0, s.promptTokens),
    newIds: r.newIds,
    prefillTokensPerSecond: s.prefillMs > 0 ? (s.promptTokens * 1000) / s.prefillMs : 0,
    decodeTokensPerSecond: s.tokensPerSecond,
    prefillMs: s.prefillMs,
    decodeMs: s.decodeMs,
  };
}
