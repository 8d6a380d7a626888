/**
 * EvoPress's fitness: the KL divergence from the dense model's next-token
 * distribution to the candidate's, averaged over calibration tokens. The
 * dense log-probabilities are computed once; a candidate is evaluated by
 * swapping the changed units' weights into one model and running the
 * sequences its stage needs.
 */
import type { CausalLM } from '@sparq/lm';
import { SparqError } from '@sparq/tensor';
import type { SelectionStage } from './evopress';
import type { LevelDatabase } from './database';
import type { Assignment } from './space';

/** Row-wise log-softmax of `[T, V]` logits, in float64 then stored as f32. */
function logSoftmax(logits: Float32Array, T: number, V: number): Float32Array {
  const out = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const o = t * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[o + v]!);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[o + v]! - max);
    const lz = max + Math.log(z);
    for (let v = 0; v < V; v++) out[o + v] = logits[o + v]! - lz;
  }
  return out;
}

/**
 * KL fitness over fixed calibration sequences. Stage `tokens` selects the
 * first `ceil(tokens / seqlen)` sequences, so every stage is deterministic and
 * later stages see a superset of earlier ones.
 */
export class KlFitness {
  /** Per sequence: the dense model's log-probabilities and probabilities (exp taken once, not per candidate). */
  private dense: { logp: Float32Array; p: Float64Array }[] = [];
  private current: Int32Array | undefined;
  /** Candidates evaluated so far. */
  evaluations = 0;
  /** Tokens scored so far. */
  tokensScored = 0;

  private constructor(
    private readonly model: CausalLM,
    private readonly db: LevelDatabase,
    private readonly sequences: readonly (readonly number[])[],
    /** `kl` (default): KL(dense ‖ candidate); `nll`: the candidate's mean next-token NLL (log-perplexity). */
    readonly metric: 'kl' | 'nll' = 'kl',
  ) {}

  /** Computes the dense reference distributions (the model must hold the source weights). */
  static async create(model: CausalLM, db: LevelDatabase, sequences: readonly (readonly number[])[], metric: 'kl' | 'nll' = 'kl'): Promise<KlFitness> {
    if (sequences.length === 0) throw new SparqError('E_ARG', 'KL fitness needs at least one calibration sequence');
    const f = new KlFitness(model, db, sequences, metric);
    const V = model.config.vocabSize;
    // The NLL metric needs no dense reference.
    if (metric === 'kl') {
      for (const s of sequences) {
        const logp = logSoftmax((await model.forward(s)).data, s.length, V);
        f.dense.push({ logp, p: Float64Array.from(logp, Math.exp) }); // f64: exactly the per-term exp it replaces
      }
    }
    return f;
  }

  /** Tokens available in total (every sequence's positions). */
  get totalTokens(): number {
    return this.sequences.reduce((a, s) => a + s.length, 0);
  }

  /** Installs `a`'s weights into the model, touching only the units that changed. */
  async apply(a: Assignment): Promise<void> {
    const units = this.db.manifest.units;
    for (let u = 0; u < units.length; u++) {
      if (this.current && this.current[u] === a[u]) continue;
      await this.model.setLinearWeight(units[u]!.name, await this.db.weight(u, a[u]!));
    }
    this.current = a.slice();
  }

  /** Mean KL(dense ‖ candidate) per token (or mean NLL with metric `nll`) over the stage's sequences. */
  async evaluate(a: Assignment, stage: SelectionStage): Promise<number> {
    await this.apply(a);
    const V = this.model.config.vocabSize;
    let kl = 0;
    let n = 0;
    for (let s = 0; s < this.sequences.length && n < stage.tokens; s++) {
      const seq = this.sequences[s]!;
      const lq = logSoftmax((await this.model.forward(seq)).data, seq.length, V);
      if (this.metric === 'nll') {
        // Perplexity option: the candidate's NLL of the sequence's own next tokens (positions 0 … n−2).
        for (let t = 0; t + 1 < seq.length; t++) {
          kl -= lq[t * V + seq[t + 1]!]!;
          n++;
        }
        continue;
      }
      const { logp: lp, p: pd } = this.dense[s]!;
      for (let t = 0; t < seq.length; t++) {
        let k = 0;
        const o = t * V;
        for (let v = 0; v < V; v++) {
          k += pd[o + v]! * (lp[o + v]! - lq[o + v]!);
        }
        kl += k;
        n++;
      }
    }
    this.evaluations++;
    this.tokensScored += n;
    return kl / n;
  }

  /** A {@link FitnessFn} over this evaluator (sequential; one model). */
  fn() {
    return async (cands: readonly Assignment[], stage: SelectionStage) => {
      const out: number[] = [];
      for (const c of cands) out.push(await this.evaluate(c, stage));
      return out;
    };
  }
}
