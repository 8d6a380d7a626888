/**
 * Perplexity of a text under a model, by non-overlapping windows, with the
 * protocol stated exactly so numbers are comparable.
 */
import { SparqError, Tensor } from '@sparq/tensor';
import type { CausalLM } from './model';
import type { Tokenizer } from './tokenizer/types';

/** Options of {@link evaluatePerplexity}. */
export interface PerplexityOptions {
  /**
   * Window length in tokens (≥ 2); each window is scored independently.
   * Default: the model's context length, at most {@link DEFAULT_MAX_SEQLEN}.
   */
  seqlen?: number;
  /** A line that separates documents (e.g. `<|endoftext|>`); see {@link evaluatePerplexity}. */
  docSeparator?: string;
  /**
   * Prepend BOS. Default: the tokenizer's own convention for a whole text, and
   * "when the tokenizer has a BOS id" for each document with `docSeparator`.
   */
  addBos?: boolean;
  /** Called after each window. */
  onProgress?(p: { done: number; total: number }): void;
}

/** What {@link evaluatePerplexity} returns. */
export interface PerplexityResult {
  /** `exp(nll)`. */
  perplexity: number;
  /** Mean negative log-likelihood per predicted token (natural log). */
  nll: number;
  /** Number of predicted tokens. */
  tokens: number;
  /** Number of windows scored. */
  sequences: number;
  /** The window length used. */
  seqlen: number;
  /** Per window, in order: predicted tokens and their mean NLL. */
  perSequence: { tokens: number; nll: number }[];
}

/** Upper bound of the default window length (the GPTQ/SparseGPT evaluation protocol's 2048). */
export const DEFAULT_MAX_SEQLEN = 2048;

// Rows of logits computed at once: bounds memory to 128 × vocab floats.
const HEAD_CHUNK = 128;

/** Sum of `−log softmax(logits[t])[ids[t+1]]` over one window. */
async function windowNll(model: CausalLM, ids: number[]): Promise<number> {
  const hidden = await model.forwardHidden(ids);
  const D = model.config.hiddenSize;
  const V = model.config.vocabSize;
  let sum = 0;
  for (let t0 = 0; t0 < ids.length - 1; t0 += HEAD_CHUNK) {
    const t1 = Math.min(ids.length - 1, t0 + HEAD_CHUNK);
    const part = hidden.data.slice(t0 * D, t1 * D);
    const logits = (await model.head(new Tensor('f32', [1, t1 - t0, D], part))).data;
    for (let t = t0; t < t1; t++) {
      const o = (t - t0) * V;
      let max = -Infinity;
      for (let j = 0; j < V; j++) max = Math.max(max, logits[o + j]!);
      let z = 0;
      for (let j = 0; j < V; j++) z += Math.exp(logits[o + j]! - max);
      sum += max + Math.log(z) - logits[o + ids[t + 1]!]!;
    }
  }
  return sum;
}

/** Splits `ids` into consecutive windows of `seqlen` (the last may be shorter); windows of one token predict nothing and are dropped. */
function windows(ids: number[], seqlen: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += seqlen) {
    const w = ids.slice(i, i + seqlen);
    if (w.length >= 2) out.push(w);
  }
  return out;
}

/**
 * Perplexity of `text`. Protocol:
 *
 * 1. CRLF → LF.
 * 2. Without `docSeparator`: encode the whole text (BOS prepended when
 *    `addBos`, default the tokenizer's convention), split the ids into
 *    non-overlapping windows of `seqlen` (the last, shorter window included).
 * 3. With `docSeparator`: split the text on lines equal to the separator,
 *    trim each document, drop empty ones; each document is
 *    `[BOS] + encode(doc)` (BOS when `addBos`, default: the tokenizer has one),
 *    cut into windows of `seqlen` inside the document.
 * 4. Each window is scored independently from an empty context: its first
 *    token is context only, every later token is predicted. The result is the
 *    mean NLL over all predicted tokens (accumulated in float64), and
 *    perplexity = exp(mean NLL).
 * @example
 * const r = await evaluatePerplexity(model, tokenizer, text, { seqlen: 512, docSeparator: '<|endoftext|>' });
 * console.log(r.perplexity, r.tokens);
 */
export async function evaluatePerplexity(model: CausalLM, tokenizer: Tokenizer, text: string, opts: PerplexityOptions = {}): Promise<PerplexityResult> {
  const seqlen = opts.seqlen ?? Math.min(model.config.maxPositions, DEFAULT_MAX_SEQLEN);
  if (!(Number.isInteger(seqlen) && seqlen >= 2)) throw new SparqError('E_ARG', `seqlen must be an integer ≥ 2, found ${seqlen}`);
  if (seqlen > model.config.maxPositions) {
    throw new SparqError('E_ARG', `seqlen ${seqlen} exceeds the model's max positions ${model.config.maxPositions}`, {
      details: { expected: model.config.maxPositions, found: seqlen },
    });
  }
  const clean = text.replace(/\r\n/g, '\n');
  let wins: number[][];
  if (opts.docSeparator === undefined) {
    const ids = tokenizer.encode(clean, opts.addBos === undefined ? {} : { addBos: opts.addBos });
    wins = windows(ids, seqlen);
  } else {
    const sep = opts.docSeparator;
    const docs: string[] = [];
    let cur: string[] = [];
    for (const line of clean.split('\n')) {
      if (line.trim() === sep) {
        docs.push(cur.join('\n'));
        cur = [];
      } else cur.push(line);
    }
    docs.push(cur.join('\n'));
    const addBos = opts.addBos ?? tokenizer.bosId !== undefined;
    if (addBos && tokenizer.bosId === undefined) throw new SparqError('E_ARG', 'addBos is set but the tokenizer has no BOS token');
    wins = [];
    for (const d of docs.map((s) => s.trim()).filter((s) => s.length > 0)) {
      const ids = [...(addBos ? [tokenizer.bosId!] : []), ...tokenizer.encode(d, { addBos: false })];
      wins.push(...windows(ids, seqlen));
    }
  }
  if (wins.length === 0) throw new SparqError('E_ARG', 'the text yields no token to predict (need at least 2 tokens)');
  let sum = 0;
  let tokens = 0;
  const perSequence: { tokens: number; nll: number }[] = [];
  for (let i = 0; i < wins.length; i++) {
    const n = wins[i]!.length - 1;
    const s = await windowNll(model, wins[i]!);
    sum += s;
    tokens += n;
    perSequence.push({ tokens: n, nll: s / n });
    opts.onProgress?.({ done: i + 1, total: wins.length });
  }
  const nll = sum / tokens;
  return { perplexity: Math.exp(nll), nll, tokens, sequences: wins.length, seqlen, perSequence };
}
