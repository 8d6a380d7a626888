/**
 * The `config.json` an output folder carries: the source folder's own file
 * verbatim when there is one, otherwise (llama2.c checkpoints) one written
 * from the normalised config so HF-style loaders find the model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig, WeightSource } from '@sparq/lm';
import { SparqError } from '@sparq/tensor';

/**
 * A Hugging Face `LlamaForCausalLM` config for `c` (llama2.c checkpoints are
 * LLaMA). Other architectures always come from an HF folder with its own
 * config.json, so only LLaMA is written here.
 */
export function llamaHfConfig(c: ModelConfig): Record<string, unknown> {
  if (c.architecture !== 'llama') {
    throw new SparqError('E_CONFIG', `cannot write a config.json for architecture ${c.architecture} without a source config.json`, {
      details: { expected: 'llama', found: c.architecture },
    });
  }
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    hidden_act: c.activation,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.qkvBias,
    mlp_bias: c.mlpBias,
    ...(c.bosId === undefined ? {} : { bos_token_id: c.bosId }),
    ...(c.eosIds.length === 0 ? {} : { eos_token_id: c.eosIds.length === 1 ? c.eosIds[0] : c.eosIds }),
    torch_dtype: 'float32',
  };
}

/** The output's config.json object for a model read from `source`. */
export async function outputHfConfig(source: WeightSource, config: ModelConfig): Promise<Record<string, unknown>> {
  if (source.kind === 'hf') {
    const file = join(source.path, 'config.json');
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new SparqError('E_IO', `cannot read ${file}: ${(e as Error).message}`, { details: { file }, cause: e });
    }
  }
  return llamaHfConfig(config);
}
