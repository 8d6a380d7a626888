/**
 * Scaled dot-product attention with causal masking, grouped-query heads and
 * an optional sliding window; float64 scores and softmax.
 */

/** Shapes and masking of one attention call. */
export interface AttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Each query sees at most this many keys including itself (Mistral); undefined = full causal. */
  slidingWindow: number | undefined;
}

/**
 * Attends `tq` query rows (`[tq, numHeads·headDim]`, absolute positions
 * `qPos0 …`) to `tk` key/value rows (`[tk, numKvHeads·headDim]`, positions
 * `0 … tk−1`) and writes `[tq, numHeads·headDim]` into `out`.
 *
 * Query head h reads KV head `h / (numHeads / numKvHeads)` (HF `repeat_kv`).
 * Query position i sees key j iff `j ≤ i` and `j > i − slidingWindow`
 * (HF's current sliding-window mask: exactly `slidingWindow` keys).
 */
export function attend(
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  tq: number,
  tk: number,
  qPos0: number,
  s: AttentionShape,
  out: Float32Array,
): void {
  const { numHeads, numKvHeads, headDim: hd } = s;
  const group = numHeads / numKvHeads;
  const qW = numHeads * hd;
  const kW = numKvHeads * hd;
  const scale = 1 / Math.sqrt(hd);
  const scores = new Float64Array(tk);
  const acc = new Float64Array(hd);
  for (let t = 0; t < tq; t++) {
    const pos = qPos0 + t;
    const last = Math.min(pos, tk - 1);
    const first = s.slidingWindow === undefined ? 0 : Math.max(0, pos - s.slidingWindow + 1);
    for (let h = 0; h < numHeads; h++) {
      const kvh = Math.floor(h / group);
      const qo = t * qW + h * hd;
      let max = -Infinity;
      for (let j = first; j <= last; j++) {
        const ko = j * kW + kvh * hd;
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[qo + i]! * keys[ko + i]!;
        const sc = dot * scale;
        scores[j] = sc;
        if (sc > max) max = sc;
      }
      let sum = 0;
      for (let j = first; j <= last; j++) {
        const e = Math.exp(scores[j]! - max);
        scores[j] = e;
        sum += e;
      }
      acc.fill(0);
      for (let j = first; j <= last; j++) {
        const p = scores[j]! / sum;
        const vo = j * kW + kvh * hd;
        for (let i = 0; i < hd; i++) acc[i]! += p * values[vo + i]!;
      }
      for (let i = 0; i < hd; i++) out[qo + i] = acc[i]!;
    }
  }
}
