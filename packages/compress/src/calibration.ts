/**
 * Calibration sequences: token windows the driver feeds through the model to
 * collect each linear's input statistics. Two sources, both seeded:
 *
 * - a text file: `samples` windows at random offsets of the tokenized text
 *   (the GPTQ/SparseGPT protocol, which samples random C4 windows);
 * - `self`: sequences sampled from the dense model itself at temperature 1,
 *   for models without in-domain text at hand.
 */
import { type CausalLM, sampleToken, type Tokenizer } from '@sparq/lm';
import { createRng, SparqError } from '@sparq/tensor';

/** Calibration sequences and how they were made (reported with every result). */
export interface CalibrationData {
  /** `text` (windows of a file) or `self` (sampled from the dense model). */
  source: 'text' | 'self';
  /** The text file, for `source: 'text'`. */
  file?: string;
  samples: number;
  seqlen: number;
  seed: number;
  /** Whether every sequence starts with the tokenizer's BOS. */
  bos: boolean;
  /** Tokens of the text after tokenization (`text` only). */
  textTokens?: number;
  /** `samples` sequences of exactly `seqlen` ids. */
  ids: number[][];
  /** One line for reports, e.g. `128 × 256 tokens, random windows of data.txt (seed 0), BOS first`. */
  description: string;
}

/** Options shared by both sources. */
export interface CalibrationOptions {
  samples: number;
  seqlen: number;
  seed: number;
}

function checkOptions(o: CalibrationOptions, maxPositions: number): void {
  if (!(Number.isInteger(o.samples) && o.samples >= 1)) throw new SparqError('E_ARG', `calibration samples must be an integer ≥ 1, found ${o.samples}`);
  if (!(Number.isInteger(o.seqlen) && o.seqlen >= 2)) throw new SparqError('E_ARG', `calibration seqlen must be an integer ≥ 2, found ${o.seqlen}`);
  if (o.seqlen > maxPositions) {
    throw new SparqError('E_ARG', `calibration seqlen ${o.seqlen} exceeds the model's ${maxPositions} positions`, {
      details: { expected: `≤ ${maxPositions}`, found: o.seqlen },
    });
  }
}

/**
 * Samples calibration windows from `text`. Protocol: CRLF → LF; the whole
 * text is encoded once without BOS; each sample takes `seqlen − 1` consecutive
 * tokens at an offset drawn uniformly (seeded `createRng(seed)`, one draw per
 * sample, in order) and prepends BOS — models trained with BOS at position 0
 * (LLaMA, llama2.c) behave atypically at position 0 without it. Without a
 * BOS in the tokenizer, windows are `seqlen` tokens and nothing is prepended.
 * Windows may overlap. Throws `E_ARG` when the text is shorter than a window.
 * @example
 * const calib = sampleTextCalibration(tokenizer, text, { samples: 128, seqlen: 256, seed: 0 }, 'c4.txt', 512);
 */
export function sampleTextCalibration(tokenizer: Tokenizer, text: string, o: CalibrationOptions, file: string, maxPositions: number): CalibrationData {
  checkOptions(o, maxPositions);
  const ids = tokenizer.encode(text.replace(/\r\n/g, '\n'), { addBos: false });
  const bos = tokenizer.bosId !== undefined;
  const span = o.seqlen - (bos ? 1 : 0);
  if (ids.length < span) {
    throw new SparqError('E_ARG', `calibration text ${file} has ${ids.length} tokens, fewer than one window of ${span}`, {
      details: { file, expected: `≥ ${span} tokens`, found: ids.length },
      hint: 'use a longer text, a smaller --seqlen, or --calib self',
    });
  }
  const rng = createRng(o.seed);
  const out: number[][] = [];
  for (let s = 0; s < o.samples; s++) {
    const off = rng.int(ids.length - span + 1);
    out.push([...(bos ? [tokenizer.bosId!] : []), ...ids.slice(off, off + span)]);
  }
  return {
    source: 'text',
    file,
    samples: o.samples,
    seqlen: o.seqlen,
    seed: o.seed,
    bos,
    textTokens: ids.length,
    ids: out,
    description: `${o.samples} × ${o.seqlen} tokens, random windows of ${file} (${ids.length} tokens, seed ${o.seed})${bos ? ', BOS first' : ''}`,
  };
}

/**
 * Samples calibration sequences from the dense `model` itself: each sequence
 * starts with BOS (or EOS when the tokenizer has no BOS, as GPT-2's
 * `<|endoftext|>` starts documents) and continues with `seqlen − 1` tokens
 * drawn at temperature 1 from the full distribution (no top-k/top-p), never
 * stopping at end tokens (a llama2.c model simply starts the next story). One
 * seeded RNG (`createRng(seed)`) is used for all sequences in order. Call it
 * before any weight is changed. Leaves every block unloaded.
 */
export async function sampleSelfCalibration(
  model: CausalLM,
  tokenizer: Tokenizer,
  o: CalibrationOptions,
  onProgress?: (p: { done: number; total: number }) => void,
): Promise<CalibrationData> {
  checkOptions(o, model.config.maxPositions);
  const start = tokenizer.bosId ?? tokenizer.eosId;
  if (start === undefined) {
    throw new SparqError('E_TOKENIZER', 'self calibration needs a BOS or EOS token to start sequences; the tokenizer has neither', {
      hint: 'pass a calibration text file instead (--calib <file>)',
    });
  }
  const rng = createRng(o.seed);
  const out: number[][] = [];
  for (let s = 0; s < o.samples; s++) {
    const seq = [start];
    const cache = model.createCache();
    let next = [start];
    while (seq.length < o.seqlen) {
      const logits = await model.forward(next, cache, { lastOnly: true });
      const id = sampleToken(logits.data, { temperature: 1 }, rng);
      seq.push(id);
      next = [id];
    }
    out.push(seq);
    onProgress?.({ done: s + 1, total: o.samples });
  }
  for (let i = 0; i < model.numBlocks; i++) model.unloadBlock(i);
  return {
    source: 'self',
    samples: o.samples,
    seqlen: o.seqlen,
    seed: o.seed,
    bos: start === tokenizer.bosId,
    ids: out,
    description: `${o.samples} × ${o.seqlen} tokens sampled from the dense model (temperature 1, seed ${o.seed}), ${start === tokenizer.bosId ? 'BOS' : 'EOS'} first`,
  };
}
