/**
 * Parser of Hugging Face `config.json` files (transformers 4.4x key names:
 * `rope_theta`, `rope_scaling`, `torch_dtype`) into a {@link ModelConfig}.
 */
import { SparqError } from '@sparq/tensor';
import { ARCHITECTURES, type Activation, type Llama3RopeScaling, type ModelConfig } from './config';

type Json = Record<string, unknown>;

function need<T>(json: Json, key: string, file: string, kind: 'number' | 'string' = 'number'): T {
  const v = json[key];
  if (v === undefined || v === null) {
    throw new SparqError('E_CONFIG', `${file}: missing key "${key}"`, { details: { file, expected: key } });
  }
  if (typeof v !== kind) {
    throw new SparqError('E_CONFIG', `${file}: key "${key}" should be a ${kind}, found ${JSON.stringify(v)}`, {
      details: { file, expected: kind, found: v },
    });
  }
  return v as T;
}

function opt<T>(json: Json, key: string, fallback: T): T {
  const v = json[key];
  return v === undefined || v === null ? fallback : (v as T);
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

function activation(name: string, file: string): Activation {
  // HF ACT2FN aliases: gelu_pytorch_tanh and gelu_fast are the tanh form too.
  const map: Record<string, Activation> = {
    silu: 'silu',
    swish: 'silu',
    relu: 'relu',
    gelu: 'gelu',
    gelu_new: 'gelu_new',
    gelu_pytorch_tanh: 'gelu_new',
    gelu_fast: 'gelu_new',
  };
  const a = map[name];
  if (!a) {
    throw new SparqError('E_CONFIG', `${file}: unsupported activation "${name}"`, {
      details: { file, expected: Object.keys(map), found: name },
    });
  }
  return a;
}

function ropeScaling(json: Json, file: string): Llama3RopeScaling | undefined {
  const rs = json.rope_scaling as Json | null | undefined;
  if (!rs) return undefined;
  const type = (rs.rope_type ?? rs.type) as string | undefined;
  if (type === 'default') return undefined;
  if (type !== 'llama3') {
    throw new SparqError('E_CONFIG', `${file}: unsupported rope_scaling type "${String(type)}"`, {
      details: { file, expected: ['llama3', 'default'], found: type },
      hint: 'only llama3 RoPE scaling is implemented',
    });
  }
  const f = `${file} (rope_scaling)`;
  return {
    type: 'llama3',
    factor: need<number>(rs, 'factor', f),
    lowFreqFactor: need<number>(rs, 'low_freq_factor', f),
    highFreqFactor: need<number>(rs, 'high_freq_factor', f),
    originalMaxPositions: need<number>(rs, 'original_max_position_embeddings', f),
  };
}

function common(json: Json) {
  return {
    bosId: typeof json.bos_token_id === 'number' ? json.bos_token_id : undefined,
    eosIds: ids(json.eos_token_id),
    // Absent tie_word_embeddings means true: PretrainedConfig's default.
    tieWordEmbeddings: opt(json, 'tie_word_embeddings', true),
    sourceDtype: opt<string>(json, 'torch_dtype', opt<string>(json, 'dtype', 'float32')),
  };
}

function parseLlamaFamily(json: Json, file: string, arch: 'llama' | 'mistral' | 'qwen2'): ModelConfig {
  const hiddenSize = need<number>(json, 'hidden_size', file);
  const numHeads = need<number>(json, 'num_attention_heads', file);
  const attentionBias = opt(json, 'attention_bias', false);
  let slidingWindow: number | undefined;
  if (arch === 'mistral') slidingWindow = opt<number | undefined>(json, 'sliding_window', undefined);
  if (arch === 'qwen2' && json.use_sliding_window === true) {
    throw new SparqError('E_CONFIG', `${file}: Qwen2 use_sliding_window=true is not supported`, {
      details: { file, expected: false, found: true },
    });
  }
  return {
    architecture: arch,
    hiddenSize,
    intermediateSize: need<number>(json, 'intermediate_size', file),
    numLayers: need<number>(json, 'num_hidden_layers', file),
    numHeads,
    numKvHeads: opt(json, 'num_key_value_heads', numHeads),
    headDim: opt(json, 'head_dim', hiddenSize / numHeads),
    vocabSize: need<number>(json, 'vocab_size', file),
    maxPositions: opt(json, 'max_position_embeddings', 2048),
    normEps: opt(json, 'rms_norm_eps', 1e-6),
    norm: 'rms',
    ropeTheta: opt(json, 'rope_theta', 10000),
    ropeScaling: ropeScaling(json, file),
    slidingWindow,
    // Qwen2 always has q/k/v biases and none on o_proj; LLaMA's attention_bias covers all four.
    qkvBias: arch === 'qwen2' || attentionBias,
    outBias: arch !== 'qwen2' && attentionBias,
    mlpBias: opt(json, 'mlp_bias', false),
    gatedMlp: true,
    activation: activation(opt(json, 'hidden_act', 'silu'), file),
    positionOffset: 0,
    ...common(json),
  };
}

function parseOpt(json: Json, file: string): ModelConfig {
  const hiddenSize = need<number>(json, 'hidden_size', file);
  const numHeads = need<number>(json, 'num_attention_heads', file);
  // Post-LN OPT (350m) also projects embeddings in/out; not implemented.
  if (json.do_layer_norm_before === false || opt(json, 'word_embed_proj_dim', hiddenSize) !== hiddenSize) {
    throw new SparqError('E_CONFIG', `${file}: OPT with do_layer_norm_before=false or word_embed_proj_dim ≠ hidden_size (opt-350m) is not supported`, {
      details: { file },
    });
  }
  const bias = opt(json, 'enable_bias', true);
  return {
    architecture: 'opt',
    hiddenSize,
    intermediateSize: need<number>(json, 'ffn_dim', file),
    numLayers: need<number>(json, 'num_hidden_layers', file),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    vocabSize: need<number>(json, 'vocab_size', file),
    maxPositions: need<number>(json, 'max_position_embeddings', file),
    normEps: 1e-5, // OPT's LayerNorms use the nn.LayerNorm default
    norm: 'layer',
    ropeTheta: undefined,
    ropeScaling: undefined,
    slidingWindow: undefined,
    qkvBias: bias,
    outBias: bias,
    mlpBias: bias,
    gatedMlp: false,
    activation: activation(opt(json, 'activation_function', 'relu'), file),
    positionOffset: 2, // OPTLearnedPositionalEmbedding offset
    ...common(json),
  };
}

function parseGpt2(json: Json, file: string): ModelConfig {
  const hiddenSize = need<number>(json, 'n_embd', file);
  const numHeads = need<number>(json, 'n_head', file);
  return {
    architecture: 'gpt2',
    hiddenSize,
    intermediateSize: opt(json, 'n_inner', 4 * hiddenSize),
    numLayers: need<number>(json, 'n_layer', file),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    vocabSize: need<number>(json, 'vocab_size', file),
    maxPositions: opt(json, 'n_positions', 1024),
    normEps: opt(json, 'layer_norm_epsilon', 1e-5),
    norm: 'layer',
    ropeTheta: undefined,
    ropeScaling: undefined,
    slidingWindow: undefined,
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    gatedMlp: false,
    activation: activation(opt(json, 'activation_function', 'gelu_new'), file),
    positionOffset: 0,
    ...common(json),
  };
}

/**
 * Parses a Hugging Face `config.json` object into a {@link ModelConfig}.
 * Throws `E_CONFIG` naming `file` and the key for missing keys, and listing
 * the supported `model_type`s for an unknown one.
 * @example
 * const cfg = parseHfConfig(JSON.parse(readFileSync('config.json', 'utf8')), 'config.json');
 */
export function parseHfConfig(json: unknown, file: string): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SparqError('E_CONFIG', `${file}: expected a JSON object`, { details: { file } });
  }
  const j = json as Json;
  const type = j.model_type;
  switch (type) {
    case 'llama':
    case 'mistral':
    case 'qwen2':
      return parseLlamaFamily(j, file, type);
    case 'opt':
      return parseOpt(j, file);
    case 'gpt2':
      return parseGpt2(j, file);
    default:
      throw new SparqError('E_CONFIG', `${file}: unsupported model_type ${JSON.stringify(type)}; supported: ${Object.values(ARCHITECTURES).join(', ')}`, {
        details: { file, expected: Object.values(ARCHITECTURES), found: type },
      });
  }
}

/**
 * A Hugging Face `LlamaForCausalLM` config for a LLaMA-architecture `c` —
 * what an output folder of a llama2.c checkpoint (which has no config.json)
 * carries so HF-style loaders find the model. {@link parseHfConfig} reads it
 * back to the same config. Other architectures only come from HF folders with
 * their own config.json, so they are refused.
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
