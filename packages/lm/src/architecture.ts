/**
 * What differs between architectures: tensor names, how a block's weights are
 * read, and the embedding / final norm / LM head. The block computation itself
 * is shared (block.ts).
 */
import { isHalfPrecision, SparqError, Tensor, type DenseWeightDType } from '@sparq/tensor';
import { halfLinear, packedLinear, type BlockWeights, type LinearWeights } from './block';
import type { ModelConfig } from './config';
import type { NormWeights } from './norm';
import type { WeightSource } from './weight-source';

/** Embedding, final norm and LM head. */
export interface GlobalWeights {
  /** Token embedding `[vocab, hidden]` (f16 / bf16 as stored when the source keeps half weights). */
  embed: Tensor<DenseWeightDType>;
  /** Learned absolute positions `[rows, hidden]` (OPT, GPT-2), or undefined. */
  positions: Tensor<'f32'> | undefined;
  finalNorm: NormWeights;
  /** `[vocab, hidden]`; the same object as `embed` when tied. */
  lmHead: Tensor<DenseWeightDType>;
}

/** Per-architecture loading rules. */
export interface ArchSpec {
  /** The HF names of block `i`'s linears, in the order q, k, v, o, [gate], up, down. */
  linearNames(config: ModelConfig, i: number): string[];
  loadBlock(src: WeightSource, config: ModelConfig, i: number): Promise<BlockWeights>;
  loadGlobals(src: WeightSource, config: ModelConfig): Promise<GlobalWeights>;
}

// Checkpoints saved from the base model (GPT2Model, OPTModel) lack the
// `transformer.` / `model.` prefix of the *ForCausalLM names; accept both.
const DROPPABLE_PREFIXES = ['transformer.', 'model.'];

/** The stored name of `name` in `src` (with or without a base-model prefix), or undefined. */
export function resolveName(src: WeightSource, name: string): string | undefined {
  if (src.has(name)) return name;
  for (const p of DROPPABLE_PREFIXES) if (name.startsWith(p) && src.has(name.slice(p.length))) return name.slice(p.length);
  return undefined;
}

/** Reads `name` as f32 (exact widening of f16/bf16), checking its shape. */
export async function readF32(src: WeightSource, name: string, shape: readonly number[]): Promise<Tensor<'f32'>> {
  return (await readStored(src, name, shape)).toF32();
}

/** Reads `name` in its stored dtype, checking its shape. */
async function readStored(src: WeightSource, name: string, shape: readonly number[]): Promise<Tensor> {
  const stored = resolveName(src, name);
  if (stored === undefined) {
    throw new SparqError('E_NOT_FOUND', `tensor "${name}" is missing from ${src.path}`, { details: { file: src.path, tensor: name } });
  }
  const info = src.info(stored);
  if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
    throw new SparqError('E_SHAPE_MISMATCH', `tensor "${stored}" in ${src.path}: expected [${shape.join(', ')}], found [${info.shape.join(', ')}]`, {
      details: { file: src.path, tensor: stored, expected: shape, found: info.shape },
    });
  }
  const t = await src.read(stored);
  return t.reshape(shape);
}

/** Reads a 1-D vector as a Float32Array. */
export async function readVec(src: WeightSource, name: string, n: number): Promise<Float32Array> {
  return (await readF32(src, name, [n])).data;
}

/** Reads `<base>.weight` `[out, in]` and, when `bias`, `<base>.bias` `[out]`. */
export async function readLinear(src: WeightSource, base: string, out: number, inp: number, bias: boolean): Promise<LinearWeights> {
  const packed = await src.readPacked?.(`${base}.weight`);
  if (packed) {
    if (packed.rows !== out || packed.cols !== inp) {
      throw new SparqError('E_SHAPE_MISMATCH', `${base}.weight: expected [${out}, ${inp}], found packed [${packed.rows}, ${packed.cols}]`, {
        details: { tensor: `${base}.weight`, expected: [out, inp], found: [packed.rows, packed.cols] },
      });
    }
    return packedLinear(base, packed, bias ? await readVec(src, `${base}.bias`, out) : undefined);
  }
  const w = await readStored(src, `${base}.weight`, [out, inp]);
  const b = bias ? await readVec(src, `${base}.bias`, out) : undefined;
  if (src.halfWeights && isHalfPrecision(w)) return halfLinear(base, w, b);
  return { name: base, weight: w.toF32(), bias: b };
}

/** Reads an RMSNorm (`<base>.weight`) or LayerNorm (`<base>.weight`, `<base>.bias`). */
export async function readNorm(src: WeightSource, base: string, config: ModelConfig): Promise<NormWeights> {
  const d = config.hiddenSize;
  return {
    kind: config.norm,
    weight: await readVec(src, `${base}.weight`, d),
    bias: config.norm === 'layer' ? await readVec(src, `${base}.bias`, d) : undefined,
    eps: config.normEps,
  };
}

/**
 * Reads a token embedding or LM head `[vocab, hidden]`: as stored when it is
 * f16 / bf16 and the source keeps half weights (`WeightSource.halfWeights`),
 * else as f32.
 */
export async function readTokenMatrix(src: WeightSource, name: string, shape: readonly number[]): Promise<Tensor<DenseWeightDType>> {
  const t = await readStored(src, name, shape);
  return src.halfWeights && isHalfPrecision(t) ? t : t.toF32();
}

/** Reads `lm_head.weight`, or reuses the embedding when tied (one Tensor object, so backends cache it once). */
export async function readLmHead(src: WeightSource, config: ModelConfig, embed: Tensor<DenseWeightDType>): Promise<Tensor<DenseWeightDType>> {
  if (config.tieWordEmbeddings) return embed;
  if (resolveName(src, 'lm_head.weight') === undefined) {
    throw new SparqError('E_NOT_FOUND', `tensor "lm_head.weight" is missing from ${src.path} and tie_word_embeddings is false`, {
      details: { file: src.path, tensor: 'lm_head.weight' },
      hint: 'set "tie_word_embeddings": true in config.json if the head shares the embedding',
    });
  }
  return readTokenMatrix(src, 'lm_head.weight', [config.vocabSize, config.hiddenSize]);
}
