/**
 * Next-token selection: greedy argmax and temperature / top-k / top-p
 * sampling with a seeded RNG. All probabilities in float64.
 */
import { SparqError, type Rng } from '@sparq/tensor';

/** Sampling settings; `temperature` 0 (or undefined) means greedy. */
export interface SamplingOptions {
  temperature?: number;
  /** Keep only the k most likely tokens (0 / undefined = all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 / undefined = all). */
  topP?: number;
}

/** Index of the largest logit; the lowest id wins ties. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** Throws `E_ARG` for out-of-range sampling options. */
export function validateSampling(o: SamplingOptions): void {
  if (o.temperature !== undefined && !(o.temperature >= 0)) throw new SparqError('E_ARG', `temperature must be ≥ 0, found ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new SparqError('E_ARG', `topK must be an integer ≥ 0, found ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new SparqError('E_ARG', `topP must be in (0, 1], found ${o.topP}`);
}

/**
 * Picks the next token: argmax when temperature is 0/undefined, else samples
 * from `softmax(logits / temperature)` restricted by top-k then top-p
 * (candidates ordered by probability, ties by lower id), renormalised.
 */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: Rng): number {
  const temp = o.temperature ?? 0;
  if (temp === 0) return argmax(logits);
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  const p = new Float64Array(n);
  let z = 0;
  for (let i = 0; i < n; i++) z += p[i] = Math.exp((logits[i]! - max) / temp);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  let keep = o.topK && o.topK > 0 ? Math.min(o.topK, n) : n;
  if (o.topP !== undefined && o.topP < 1) {
    let cum = 0;
    for (let r = 0; r < keep; r++) {
      cum += p[order[r]!]! / z;
      if (cum >= o.topP) {
        keep = r + 1;
        break;
      }
    }
  }
  let mass = 0;
  for (let r = 0; r < keep; r++) mass += p[order[r]!]!;
  let u = rng.float() * mass;
  for (let r = 0; r < keep; r++) {
    u -= p[order[r]!]!;
    if (u < 0) return order[r]!;
  }
  return order[keep - 1]!;
}
