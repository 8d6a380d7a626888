/**
 * @sparq/lm — model architectures, tokenizers, loading (HF folders, llama2.c
 * checkpoints, sparq containers, the Hub), layer-by-layer execution,
 * perplexity and generation.
 * @packageDocumentation
 */

/** Everything that also runs in a browser (models, generation, tokenizers from bytes, {@link loadModelFrom}). */
export * from './browser';
/** Tokenizer loaders of local files and folders. */
export * from './tokenizer/index';
export * from './hub';

/** Hugging Face folders: `config.json` and safetensors (single or sharded). */
export { openHfWeights, readHfConfig } from './hf-source';
/** sparq container folders as a lazy source (packed weights decoded to f32 on read). */
export { openSparqWeights } from './sparq-source';
/** llama2.c v0 checkpoints as a lazy HF-named source (q/k permuted to rotate-half). */
export { llama2cConfig, llama2cLayout, openLlama2cCheckpoint, parseLlama2cHeader, permuteRotateHalf } from './llama2c';
/** The 7-field llama2.c header. */
export type { Llama2cHeader } from './llama2c';

/** Loading a model with its tokenizer, and inspecting one from headers only. */
export { inspectModel, loadModel } from './load';
/** Options and results of {@link loadModel} / {@link inspectModel}. */
export type { LoadModelOptions, ModelInspection, TensorSummary } from './load';
