/**
 * Lazy weight sources: a model's tensors by Hugging Face name, read one at a
 * time on demand, so a model never has to sit in memory whole.
 */
import type { DType, PackedMatrix, Tensor } from '@sparq/tensor';

/** Header facts of one stored tensor. */
export interface WeightInfo {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

/**
 * A lazy store of a model's tensors, keyed by Hugging Face tensor names
 * (`model.layers.0.self_attn.q_proj.weight`). Reading returns the stored dtype
 * (f32/f16/bf16); widening to f32 is the model's job.
 */
export interface WeightSource {
  /** `'hf'` for a config.json + safetensors folder, `'llama2c'` for a `.bin` checkpoint. */
  readonly kind: 'hf' | 'llama2c';
  /** The folder or file it reads from. */
  readonly path: string;
  /** Every tensor name. */
  names(): string[];
  /** True when `name` is stored. */
  has(name: string): boolean;
  /** Header facts of `name`; throws `E_NOT_FOUND` when absent. */
  info(name: string): WeightInfo;
  /** Reads one tensor; throws `E_NOT_FOUND` when absent. */
  read(name: string): Promise<Tensor>;
  /**
   * The packed structure of a compressed weight, for kernels that run on it
   * directly; undefined for plain tensors. Only sources opened for packed
   * execution define it (e.g. a sparq container with `packed: true`).
   */
  readPacked?(name: string): Promise<PackedMatrix | undefined>;
  /**
   * Keep linear weights, token embeddings and LM heads stored as f16 / bf16
   * half precision in memory (they run through `matmulDense` as stored)
   * instead of widening them to f32 at load.
   * Set by `loadModel({ halfWeights: true })` when the backend accepts them.
   */
  halfWeights?: boolean;
  /** Closes open files. */
  close(): Promise<void>;
}
