/**
 * @sparq/lm — model architectures, tokenizers, loading (HF folders, llama2.c
 * checkpoints, the Hub), layer-by-layer execution, perplexity and generation.
 * @packageDocumentation
 */
export * from './tokenizer/index';
export * from './hub';

/** Supported architectures and the HF `config.json` parser. */
export { ARCHITECTURES } from './config';
/** Parses a Hugging Face `config.json` object (llama, mistral, qwen2, opt, gpt2). */
export { llamaHfConfig, parseHfConfig } from './hf-config';
/** The normalised model configuration and its parts. */
export type { Activation, Architecture, Llama3RopeScaling, ModelConfig } from './config';

/** Lazy weight sources: what a model reads its tensors from. */
export type { WeightInfo, WeightSource } from './weight-source';
/** Hugging Face folders: `config.json` and safetensors (single or sharded). */
export { openHfWeights, readHfConfig } from './hf-source';
/** sparq containers as a lazy source (packed weights decoded to f32 on read). */
export { openSparqWeights } from './sparq-source';
export type { SparqWeightSource } from './sparq-source';
/** llama2.c v0 checkpoints as a lazy HF-named source (q/k permuted to rotate-half). */
export { llama2cConfig, llama2cLayout, openLlama2cCheckpoint, parseLlama2cHeader, permuteRotateHalf } from './llama2c';
/** The 7-field llama2.c header. */
export type { Llama2cHeader } from './llama2c';

/** The causal language model: forward with a KV cache and the layer-by-layer API. */
export { CausalLM } from './model';
/** Options of {@link CausalLM.forward} and {@link CausalLM.runBlock}. */
export type { ForwardOptions, RunBlockOptions } from './model';
/** The per-layer key/value cache of incremental decoding. */
export { KvCache } from './kv-cache';
/** One block's weights, one linear layer, and the linear-input hook of calibration. */
export type { BlockWeights, LinearInputHook, LinearWeights } from './block';
/** RoPE inverse frequencies (with llama3 scaling) and the rotate-half rotation. */
export { applyRope, ropeInvFreq } from './rope';

/** Loading a model with its tokenizer, and inspecting one from headers only. */
export { inspectModel, loadModel } from './load';
/** Options and results of {@link loadModel} / {@link inspectModel}. */
export type { LoadedModel, LoadModelOptions, LoadProgress, ModelInspection, ModelSource, TensorSummary } from './load';

/** Text generation (greedy or sampled, streaming). */
export { generate } from './generate';
/** Options and results of {@link generate}. */
export type { GenerateOptions, GenerateResult, GenerateStats } from './generate';
/** Next-token selection: argmax and temperature / top-k / top-p sampling. */
export { argmax, sampleToken } from './sampling';
/** Sampling settings. */
export type { SamplingOptions } from './sampling';

/** Perplexity by non-overlapping windows (protocol in its TSDoc). */
export { DEFAULT_MAX_SEQLEN, evaluatePerplexity } from './perplexity';
/** Options and result of {@link evaluatePerplexity}. */
export type { PerplexityOptions, PerplexityResult } from './perplexity';
