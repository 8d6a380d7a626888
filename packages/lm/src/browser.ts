/**
 * @sparq/lm, browser build — everything in `@sparq/lm` that runs without
 * Node: the architectures and `CausalLM`, generation, perplexity, sampling,
 * tokenizers parsed from bytes, and loading a sparq container plus its
 * tokenizer from named byte sources (picked files, a URL, bytes in memory)
 * with {@link loadModelFrom}. Bundlers pick this file through the package's
 * `browser` export condition; Node gets `index.ts`, which adds the loaders of
 * local folders and files and the Hub.
 * @packageDocumentation
 */
export * from './tokenizer/browser';

/** Supported architectures and the HF `config.json` parser. */
export { ARCHITECTURES } from './config';
/** Parses a Hugging Face `config.json` object (llama, mistral, qwen2, opt, gpt2). */
export { llamaHfConfig, parseHfConfig } from './hf-config';
/** The normalised model configuration and its parts. */
export type { Activation, Architecture, Llama3RopeScaling, ModelConfig } from './config';

/** Lazy weight sources: what a model reads its tensors from. */
export type { WeightInfo, WeightSource } from './weight-source';
/** An open sparq container as a weight source (packed weights decoded to f32 on read, or kept packed). */
export { containerWeightSource } from './container-source';
export type { SparqWeightSource } from './container-source';

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

/** Loading a sparq container and its tokenizer from named byte sources (no file system). */
export { loadModelFrom } from './load-from';
export type { LoadModelFromOptions } from './load-from';
/** What a loader returns, and its progress reports. */
export type { LoadedModel, LoadProgress, ModelSource } from './model-source';

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
