/**
 * OPT tensor names (`OPTForCausalLM.save_pretrained`: `model.decoder.…`):
 * pre-LayerNorm blocks (`do_layer_norm_before`), ReLU fc1/fc2, biases on every
 * projection, learned positions with offset 2, a final decoder LayerNorm.
 */
import { readF32, readLinear, readLmHead, readNorm, readTokenMatrix, type ArchSpec } from './architecture';

/** Loading rules of OPT. */
export const optSpec: ArchSpec = {
  linearNames(_c, i) {
    const p = `model.decoder.layers.${i}`;
    return [`${p}.self_attn.q_proj`, `${p}.self_attn.k_proj`, `${p}.self_attn.v_proj`, `${p}.self_attn.out_proj`, `${p}.fc1`, `${p}.fc2`];
  },
  async loadBlock(src, c, i) {
    const p = `model.decoder.layers.${i}`;
    const D = c.hiddenSize;
    const F = c.intermediateSize;
    return {
      norm1: await readNorm(src, `${p}.self_attn_layer_norm`, c),
      norm2: await readNorm(src, `${p}.final_layer_norm`, c),
      q: await readLinear(src, `${p}.self_attn.q_proj`, D, D, c.qkvBias),
      k: await readLinear(src, `${p}.self_attn.k_proj`, D, D, c.qkvBias),
      v: await readLinear(src, `${p}.self_attn.v_proj`, D, D, c.qkvBias),
      o: await readLinear(src, `${p}.self_attn.out_proj`, D, D, c.outBias),
      gate: undefined,
      up: await readLinear(src, `${p}.fc1`, F, D, c.mlpBias),
      down: await readLinear(src, `${p}.fc2`, D, F, c.mlpBias),
    };
  },
  async loadGlobals(src, c) {
    const D = c.hiddenSize;
    const embed = await readTokenMatrix(src, 'model.decoder.embed_tokens.weight', [c.vocabSize, D]);
    // OPTLearnedPositionalEmbedding has max_position_embeddings + 2 rows (offset 2).
    const positions = await readF32(src, 'model.decoder.embed_positions.weight', [c.maxPositions + c.positionOffset, D]);
    return { embed, positions, finalNorm: await readNorm(src, 'model.decoder.final_layer_norm', c), lmHead: await readLmHead(src, c, embed) };
  },
};
