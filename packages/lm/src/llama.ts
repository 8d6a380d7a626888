/**
 * LLaMA-family tensor names (`LlamaForCausalLM`, `MistralForCausalLM`,
 * `Qwen2ForCausalLM`): RMSNorm, rotate-half RoPE, SwiGLU MLP, GQA.
 */
import { readLinear, readLmHead, readNorm, readTokenMatrix, type ArchSpec } from './architecture';

/** Loading rules of the LLaMA family. */
export const llamaSpec: ArchSpec = {
  linearNames(_c, i) {
    const p = `model.layers.${i}`;
    return ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => `${p}.self_attn.${n}`).concat(['gate_proj', 'up_proj', 'down_proj'].map((n) => `${p}.mlp.${n}`));
  },
  async loadBlock(src, c, i) {
    const p = `model.layers.${i}`;
    const D = c.hiddenSize;
    const qDim = c.numHeads * c.headDim;
    const kvDim = c.numKvHeads * c.headDim;
    const I = c.intermediateSize;
    return {
      norm1: await readNorm(src, `${p}.input_layernorm`, c),
      norm2: await readNorm(src, `${p}.post_attention_layernorm`, c),
      q: await readLinear(src, `${p}.self_attn.q_proj`, qDim, D, c.qkvBias),
      k: await readLinear(src, `${p}.self_attn.k_proj`, kvDim, D, c.qkvBias),
      v: await readLinear(src, `${p}.self_attn.v_proj`, kvDim, D, c.qkvBias),
      o: await readLinear(src, `${p}.self_attn.o_proj`, D, qDim, c.outBias),
      gate: await readLinear(src, `${p}.mlp.gate_proj`, I, D, c.mlpBias),
      up: await readLinear(src, `${p}.mlp.up_proj`, I, D, c.mlpBias),
      down: await readLinear(src, `${p}.mlp.down_proj`, D, I, c.mlpBias),
    };
  },
  async loadGlobals(src, c) {
    const embed = await readTokenMatrix(src, 'model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
    return { embed, positions: undefined, finalNorm: await readNorm(src, 'model.norm', c), lmHead: await readLmHead(src, c, embed) };
  },
};
