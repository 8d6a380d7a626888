/** RMSNorm and LayerNorm over the last dimension, float64 accumulation. */

/** Weights of one norm; `bias` only for LayerNorm. */
export interface NormWeights {
  kind: 'rms' | 'layer';
  weight: Float32Array;
  bias: Float32Array | undefined;
  eps: number;
}

/**
 * Normalises each of `rows` rows of width `weight.length`:
 * RMSNorm `w · x / sqrt(mean(x²) + eps)` (HF LlamaRMSNorm), or LayerNorm
 * `w · (x − mean) / sqrt(var + eps) + b` with biased variance (nn.LayerNorm).
 */
export function applyNorm(x: Float32Array, rows: number, n: NormWeights): Float32Array {
  const d = n.weight.length;
  const out = new Float32Array(rows * d);
  const w = n.weight;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    if (n.kind === 'rms') {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x[o + i]! * x[o + i]!;
      const inv = 1 / Math.sqrt(ss / d + n.eps);
      for (let i = 0; i < d; i++) out[o + i] = w[i]! * (x[o + i]! * inv);
    } else {
      let mean = 0;
      for (let i = 0; i < d; i++) mean += x[o + i]!;
      mean /= d;
      let v = 0;
      for (let i = 0; i < d; i++) v += (x[o + i]! - mean) ** 2;
      const inv = 1 / Math.sqrt(v / d + n.eps);
      const b = n.bias;
      for (let i = 0; i < d; i++) out[o + i] = w[i]! * (x[o + i]! - mean) * inv + (b ? b[i]! : 0);
    }
  }
  return out;
}
