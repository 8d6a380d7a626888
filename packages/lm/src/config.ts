/**
 * The normalised model configuration every architecture runs from (parsed
 * from HF `config.json` by hf-config.ts, or from a llama2.c header).
 */

/** Closed set of supported architectures (HF `model_type` values). */
export const ARCHITECTURES = {
  /** `LlamaForCausalLM`: RMSNorm, rotate-half RoPE, SwiGLU, GQA. */
  llama: 'llama',
  /** `MistralForCausalLM`: LLaMA plus an optional sliding attention window. */
  mistral: 'mistral',
  /** `Qwen2ForCausalLM`: LLaMA plus biases on q/k/v. */
  qwen2: 'qwen2',
  /** `OPTForCausalLM`: pre-LayerNorm, learned positions (offset 2), ReLU, biases everywhere. */
  opt: 'opt',
  /** `GPT2LMHeadModel`: Conv1D (`[in, out]`) weights, learned positions, gelu_new. */
  gpt2: 'gpt2',
} as const;

/** A supported architecture. */
export type Architecture = (typeof ARCHITECTURES)[keyof typeof ARCHITECTURES];

/** MLP activation functions. `gelu_new` is the tanh approximation (GPT-2). */
export type Activation = 'silu' | 'relu' | 'gelu' | 'gelu_new';

/** LLaMA-3 RoPE frequency scaling (`rope_scaling.rope_type = "llama3"`). */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/** A model configuration, normalised across architectures. */
export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number;
  /** MLP inner size (`intermediate_size`, `ffn_dim`, `n_inner`). */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (GQA); equals `numHeads` without GQA. */
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  normEps: number;
  /** `'rms'` for the LLaMA family, `'layer'` (with bias) for OPT and GPT-2. */
  norm: 'rms' | 'layer';
  /** RoPE base; undefined for learned absolute positions (OPT, GPT-2). */
  ropeTheta: number | undefined;
  ropeScaling: Llama3RopeScaling | undefined;
  /** Each query attends to at most this many keys including itself (Mistral); undefined = full causal. */
  slidingWindow: number | undefined;
  /** LM head shares the token embedding (absent key = true, the HF default). */
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases. */
  qkvBias: boolean;
  /** o_proj carries a bias. */
  outBias: boolean;
  /** MLP projections carry biases. */
  mlpBias: boolean;
  /** Gated MLP (`down(act(gate(x)) · up(x))`) vs plain (`fc2(act(fc1(x)))`). */
  gatedMlp: boolean;
  activation: Activation;
  /** Learned position table offset (OPT: 2); 0 otherwise. */
  positionOffset: number;
  bosId: number | undefined;
  /** End-of-sequence ids (LLaMA-3 configs list several). */
  eosIds: number[];
  /** Storage dtype of the checkpoint (`torch_dtype`), e.g. `'float32'`, `'bfloat16'`. */
  sourceDtype: string;
}
