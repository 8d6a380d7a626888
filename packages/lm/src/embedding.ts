/**
 * The two ends of a model: token (plus learned position) embeddings in, and
 * final norm plus LM head out.
 */
import { bf16ArrayToF32, f16ArrayToF32, SparqError, Tensor, type Backend, type DenseWeightDType } from '@sparq/tensor';
import type { GlobalWeights } from './architecture';
import type { ModelConfig } from './config';
import { normRows } from './model-kernels';

/** Row `id` of a token embedding `[vocab, D]` into `dst`, widened exactly when it is stored as f16 / bf16. */
function embeddingRow(embed: Tensor<DenseWeightDType>, id: number, D: number, dst: Float32Array): void {
  const row = embed.data.subarray(id * D, (id + 1) * D);
  if (row instanceof Float32Array) dst.set(row);
  else if (embed.dtype === 'f16') dst.set(f16ArrayToF32(row));
  else dst.set(bf16ArrayToF32(row));
}

/**
 * Hidden states `[batch, seqLen, hidden]` of one sequence or several of equal
 * length, the first token at absolute position `startPos`.
 */
export function embedTokens(
  g: GlobalWeights,
  c: ModelConfig,
  ids: readonly number[] | readonly (readonly number[])[],
  startPos: number,
): Tensor<'f32'> {
  const seqs = (typeof ids[0] === 'number' || ids.length === 0 ? [ids] : ids) as readonly (readonly number[])[];
  const T = seqs[0]!.length;
  if (seqs.some((s) => s.length !== T)) throw new SparqError('E_ARG', 'embed: all sequences must have the same length');
  const D = c.hiddenSize;
  if (g.positions && startPos + T + c.positionOffset > g.positions.shape[0]!) {
    throw new SparqError('E_ARG', `sequence of ${startPos + T} positions exceeds the model's ${c.maxPositions} learned positions`, {
      details: { expected: c.maxPositions, found: startPos + T },
    });
  }
  const out = new Float32Array(seqs.length * T * D);
  seqs.forEach((s, b) =>
    s.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) {
        throw new SparqError('E_ARG', `token id ${id} is outside the vocabulary [0, ${c.vocabSize})`, { details: { expected: c.vocabSize, found: id } });
      }
      const o = (b * T + t) * D;
      embeddingRow(g.embed, id, D, out.subarray(o, o + D));
      if (g.positions) {
        // OPT indexes its table at position + 2 (OPTLearnedPositionalEmbedding); GPT-2 at the position.
        const p = (startPos + t + c.positionOffset) * D;
        for (let i = 0; i < D; i++) out[o + i]! += g.positions.data[p + i]!;
      }
    }),
  );
  return new Tensor('f32', [seqs.length, T, D], out);
}

/**
 * Final norm and LM head on hidden `[batch·seqLen, hidden]` rows: logits
 * `[batch, seqLen, vocab]`, or `[batch, 1, vocab]` for the last position only.
 */
export async function lmHead(
  g: GlobalWeights,
  c: ModelConfig,
  backend: Backend,
  hidden: Float32Array,
  B: number,
  T: number,
  lastOnly: boolean,
): Promise<Tensor<'f32'>> {
  const D = c.hiddenSize;
  let x = hidden;
  let t = T;
  if (lastOnly) {
    x = new Float32Array(B * D);
    for (let b = 0; b < B; b++) x.set(hidden.subarray((b * T + T - 1) * D, (b * T + T) * D), b * D);
    t = 1;
  }
  const normed = await normRows(backend, x, B * t, g.finalNorm);
  // A tied head is the embedding Tensor itself, so the backend caches one copy.
  const logits = await backend.run('matmulDense', { a: new Tensor('f32', [B * t, D], normed), b: g.lmHead }, { transposeB: true });
  return logits.reshape([B, t, c.vocabSize]);
}
