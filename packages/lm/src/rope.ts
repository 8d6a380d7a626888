/**
 * Rotary position embeddings in Hugging Face's rotate-half layout
 * (`modeling_llama.apply_rotary_pos_emb`): dimension i rotates with
 * i + head_dim/2, `q' = q·cos + rotate_half(q)·sin`. Angles in float64.
 */
import type { Llama3RopeScaling } from './config';

/**
 * Inverse frequencies `θ^(-2i/head_dim)`, i < head_dim/2, with LLaMA-3 scaling
 * applied when given (HF `_compute_llama3_parameters`): bands whose wavelength
 * is shorter than `original_max / high_freq_factor` are kept, longer than
 * `original_max / low_freq_factor` are divided by `factor`, the rest blended.
 */
export function ropeInvFreq(headDim: number, theta: number, scaling?: Llama3RopeScaling): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  if (!scaling) return inv;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowWavelen = originalMaxPositions / lowFreqFactor;
  const highWavelen = originalMaxPositions / highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = inv[i]!;
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) continue;
    if (wavelen > lowWavelen) {
      inv[i] = f / factor;
    } else {
      const s = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      inv[i] = (1 - s) * (f / factor) + s * f;
    }
  }
  return inv;
}

/**
 * Rotates `nHeads` heads of `headDim` in each of `rows` rows of `x` in place;
 * row r sits at absolute position `positions[r]`.
 */
export function applyRope(
  x: Float32Array,
  rows: number,
  nHeads: number,
  headDim: number,
  positions: ArrayLike<number>,
  invFreq: Float64Array,
): void {
  const half = headDim / 2;
  const width = nHeads * headDim;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let r = 0; r < rows; r++) {
    const p = positions[r]!;
    for (let i = 0; i < half; i++) {
      const a = p * invFreq[i]!;
      cos[i] = Math.cos(a);
      sin[i] = Math.sin(a);
    }
    for (let h = 0; h < nHeads; h++) {
      const o = r * width + h * headDim;
      for (let i = 0; i < half; i++) {
        const x1 = x[o + i]!;
        const x2 = x[o + i + half]!;
        // rotate_half(x) = cat(-x2, x1)
        x[o + i] = x1 * cos[i]! - x2 * sin[i]!;
        x[o + i + half] = x2 * cos[i]! + x1 * sin[i]!;
      }
    }
  }
}
