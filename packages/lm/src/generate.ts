/**
 * Text generation: prefill the prompt through the KV cache, then decode one
 * token at a time, greedy or sampled, streaming each token.
 */
import { createRng, SparqError } from '@sparq/tensor';
import type { CausalLM } from './model';
import { sampleToken, validateSampling, type SamplingOptions } from './sampling';
import { createTokenDecoder } from './tokenizer/token-decoder';
import type { Tokenizer } from './tokenizer/types';

/** Options of {@link generate}. */
export interface GenerateOptions extends SamplingOptions {
  /** Number of new tokens to generate at most (default 128). */
  maxTokens?: number;
  /** Seed of the sampling RNG (default 0); the same seed gives the same tokens. */
  seed?: number;
  /**
   * Stop after an end token (kept in `newIds`); default true. End tokens: the
   * config's EOS ids, the tokenizer's EOS, and for llama2.c tokenizers also BOS
   * (run.c's rule: those models end a story by emitting BOS).
   */
  stopAtEos?: boolean;
  /** Prepend BOS to the prompt (default: the tokenizer's convention). */
  addBos?: boolean;
  /** Called for each new token with its streamed text piece (may be '' mid-character). */
  onToken?(id: number, text: string): void;
}

/** Timing of a {@link generate} call. */
export interface GenerateStats {
  promptTokens: number;
  newTokens: number;
  /** Time of the prompt forward pass. */
  prefillMs: number;
  /** Time of the one-token forward passes (one per new token after the first). */
  decodeMs: number;
  /** Decode throughput: `(newTokens − 1) / decodeMs` in tokens/s (0 with one new token). */
  tokensPerSecond: number;
}

/** What {@link generate} returns. */
export interface GenerateResult {
  /** Prompt ids (including BOS when added) followed by the new ids. */
  ids: number[];
  /** The new ids only. */
  newIds: number[];
  /** The new text only: the `onToken` pieces concatenated, plus any incomplete character flushed at the end. */
  text: string;
  /** `tokenizer.decode(ids)`: prompt plus new text. */
  fullText: string;
  stats: GenerateStats;
}

/**
 * Generates up to `maxTokens` new tokens after `prompt`. Greedy (argmax,
 * lowest id on ties) unless `temperature > 0`, then top-k / top-p sampling
 * with `createRng(seed)`. Stops at the model's or tokenizer's EOS unless
 * `stopAtEos` is false (see {@link GenerateOptions.stopAtEos}), and before exceeding the model's max positions.
 * @example
 * const r = await generate(model, tokenizer, 'Once upon a time', { maxTokens: 50, onToken: (_, t) => process.stdout.write(t) });
 * console.log(r.stats.tokensPerSecond);
 */
export async function generate(model: CausalLM, tokenizer: Tokenizer, prompt: string, opts: GenerateOptions = {}): Promise<GenerateResult> {
  validateSampling(opts);
  const maxTokens = opts.maxTokens ?? 128;
  if (!(Number.isInteger(maxTokens) && maxTokens >= 0)) throw new SparqError('E_ARG', `maxTokens must be an integer ≥ 0, found ${maxTokens}`);
  const promptIds = tokenizer.encode(prompt, opts.addBos === undefined ? {} : { addBos: opts.addBos });
  if (promptIds.length === 0) throw new SparqError('E_ARG', 'the prompt encodes to no tokens and no BOS is added', { hint: 'pass a non-empty prompt' });
  const eos = new Set(model.config.eosIds);
  if (tokenizer.eosId !== undefined) eos.add(tokenizer.eosId);
  // llama2.c's run.c stops at BOS: its models end a story by starting the next one.
  if (tokenizer.kind === 'llama2c' && tokenizer.bosId !== undefined) eos.add(tokenizer.bosId);
  if (promptIds.length > model.config.maxPositions) {
    throw new SparqError('E_ARG', `the prompt has ${promptIds.length} tokens, more than the model's ${model.config.maxPositions} positions`, {
      details: { expected: model.config.maxPositions, found: promptIds.length },
    });
  }
  // Never run past the model's positions (learned tables end there; RoPE models were trained to there).
  const limit = Math.min(maxTokens, model.config.maxPositions - promptIds.length + 1);
  const rng = createRng(opts.seed ?? 0);
  const dec = createTokenDecoder(tokenizer);
  // Prime the streaming decoder with the prompt so the first piece's leading space is right.
  for (const id of promptIds) dec.push(id);
  dec.flush();

  const cache = model.createCache();
  const newIds: number[] = [];
  let text = '';
  let prefillMs = 0;
  let decodeMs = 0;
  let next = promptIds;
  for (let step = 0; step < limit; step++) {
    const t0 = performance.now();
    const logits = await model.forward(next, cache, { lastOnly: true });
    const dt = performance.now() - t0;
    if (step === 0) prefillMs = dt;
    else decodeMs += dt;
    const id = sampleToken(logits.data, opts, rng);
    newIds.push(id);
    const piece = dec.push(id);
    text += piece;
    opts.onToken?.(id, piece);
    if (opts.stopAtEos !== false && eos.has(id)) break;
    next = [id];
  }
  const tail = dec.flush();
  text += tail;
  const ids = [...promptIds, ...newIds];
  return {
    ids,
    newIds,
    text,
    fullText: tokenizer.decode(ids),
    stats: {
      promptTokens: promptIds.length,
      newTokens: newIds.length,
      prefillMs,
      decodeMs,
      tokensPerSecond: newIds.length > 1 && decodeMs > 0 ? ((newIds.length - 1) * 1000) / decodeMs : 0,
    },
  };
}
