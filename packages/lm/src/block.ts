/**
 * One pre-norm transformer block, shared by every architecture:
 * `h = x + o(attn(norm1(x)))`, `out = h + mlp(norm2(h))`. Matmuls go through
 * the backend; RMSNorm, RoPE, attention and SiLU-gating go through it too when
 * it supports those optional model kernels (`model-kernels.ts`), and
 * otherwise run in JS (f64 math), as do LayerNorm and the other activations.
 */
import { decodePacked, PACKED_MATMUL_KERNEL, Tensor, type Backend, type PackedMatrix } from '@sparq/tensor';
import type { Activation, ModelConfig } from './config';
import type { KvCache } from './kv-cache';
import { attendRows, gatedActivation, normRows, ropeRows } from './model-kernels';
import type { NormWeights } from './norm';

/** One linear layer: weight `[out, in]` f32 (PyTorch Linear layout), optional bias. */
export interface LinearWeights {
  /** HF name without `.weight`, e.g. `model.layers.3.self_attn.q_proj`. */
  name: string;
  /** The f32 weight. For a packed linear it is decoded on first access only (see {@link packedLinear}). */
  weight: Tensor<'f32'>;
  bias: Float32Array | undefined;
  /** When set, matmuls run the compressed kernel on this packed weight instead of `weight`. */
  packed?: PackedMatrix | undefined;
  /**
   * When set (and `packed` is not), matmuls run on this half-precision weight
   * `[out, in]` as stored in the checkpoint, instead of `weight` (see {@link halfLinear}).
   */
  half?: Tensor<'f16' | 'bf16'> | undefined;
}

/**
 * A linear whose matmuls run on its f16 / bf16 checkpoint weight, kept half
 * precision (half the memory of f32; the backend widens it exactly). `weight`
 * widens it on first read (for calibration or export) and assigning `weight`
 * replaces the half form, as {@link packedLinear} does for packed weights.
 */
export function halfLinear(name: string, half: Tensor<'f16' | 'bf16'>, bias: Float32Array | undefined): LinearWeights {
  let wide: Tensor<'f32'> | undefined;
  const l: LinearWeights = { name, bias, half } as LinearWeights;
  Object.defineProperty(l, 'weight', {
    enumerable: true,
    get: () => (wide ??= half.toF32()),
    set: (t: Tensor<'f32'>) => {
      wide = t;
      l.half = undefined;
    },
  });
  return l;
}

/**
 * A linear whose matmuls run on the packed weight. `weight` decodes it on first
 * read (for calibration or export) and assigning `weight` replaces the packed
 * form, so the f32 copy exists only when something asks for it.
 */
export function packedLinear(name: string, packed: PackedMatrix, bias: Float32Array | undefined): LinearWeights {
  let dense: Tensor<'f32'> | undefined;
  const l: LinearWeights = { name, bias, packed } as LinearWeights;
  Object.defineProperty(l, 'weight', {
    enumerable: true,
    get: () => (dense ??= new Tensor('f32', [packed.rows, packed.cols], decodePacked(packed))),
    set: (t: Tensor<'f32'>) => {
      dense = t;
      l.packed = undefined;
    },
  });
  return l;
}

/** `x · decode(w)ᵀ` through the backend's compressed kernel for `w`'s kind. */
function packedMatmul(backend: Backend, x: Tensor<'f32'>, w: PackedMatrix): Promise<Tensor<'f32'>> {
  switch (w.kind) {
    case 'quant':
      return backend.run(PACKED_MATMUL_KERNEL.quant, { a: x, w }, {});
    case 'nm':
      return backend.run(PACKED_MATMUL_KERNEL.nm, { a: x, w }, {});
    case 'nm-quant':
      return backend.run(PACKED_MATMUL_KERNEL['nm-quant'], { a: x, w }, {});
    case 'spqr':
      return backend.run(PACKED_MATMUL_KERNEL.spqr, { a: x, w }, {});
  }
}

/** The weights of one block. Plain MLPs (OPT, GPT-2) use `up` = fc1 and `down` = fc2 and no `gate`. */
export interface BlockWeights {
  norm1: NormWeights;
  norm2: NormWeights;
  q: LinearWeights;
  k: LinearWeights;
  v: LinearWeights;
  o: LinearWeights;
  gate: LinearWeights | undefined;
  up: LinearWeights;
  down: LinearWeights;
}

/** Every linear of a block, in execution order. */
export function blockLinears(w: BlockWeights): LinearWeights[] {
  return [w.q, w.k, w.v, w.o, ...(w.gate ? [w.gate] : []), w.up, w.down];
}

/**
 * Called with the input of each linear layer, `[rows, in]` f32. q, k and v
 * share one input: the hook is called once per name with the *same* tensor
 * object (likewise gate and up), so a caller can deduplicate by identity.
 */
export type LinearInputHook = (name: string, x: Tensor<'f32'>) => void | Promise<void>;

/** Everything a block needs besides its weights. */
export interface BlockContext {
  config: ModelConfig;
  backend: Backend;
  layer: number;
  /** RoPE inverse frequencies, or undefined for learned positions. */
  invFreq: Float64Array | undefined;
  onLinearInput?: LinearInputHook;
}

/** `x · Wᵀ + b` through the backend; `x` is `[rows, in]`. */
export async function linear(backend: Backend, x: Tensor<'f32'>, l: LinearWeights): Promise<Float32Array> {
  const y = l.packed ? await packedMatmul(backend, x, l.packed) : await backend.run('matmulDense', { a: x, b: l.half ?? l.weight }, { transposeB: true });
  const out = y.data;
  if (l.bias) {
    const b = l.bias;
    const n = b.length;
    for (let i = 0; i < out.length; i++) out[i]! += b[i % n]!;
  }
  return out;
}

/** Applies an activation in place (f64 math). `gelu_new` is GPT-2's tanh form. */
export function activate(x: Float32Array, act: Activation): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    switch (act) {
      case 'silu':
        x[i] = v / (1 + Math.exp(-v));
        break;
      case 'relu':
        x[i] = v > 0 ? v : 0;
        break;
      case 'gelu':
        x[i] = 0.5 * v * (1 + erf(v / Math.SQRT2));
        break;
      case 'gelu_new':
        x[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        break;
    }
  }
}

// erf for exact GELU (HF "gelu"). Math has no erf; the Abramowitz–Stegun fit
// (error 1.5e-7) is too coarse for float64 references, so use the everywhere-
// convergent series erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)),
// all terms positive (no cancellation); |x| ≥ 6 rounds to ±1 in float64.
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  // erf(x) = 2/√π · e^{-x²} · Σ 2^n x^{2n+1} / (1·3·…·(2n+1))  (converges for all x, stable)
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 200; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
}

async function report(ctx: BlockContext, names: LinearWeights[], x: Tensor<'f32'>): Promise<void> {
  if (!ctx.onLinearInput) return;
  for (const l of names) await ctx.onLinearInput(l.name, x);
}

/**
 * Runs one block on `batch` sequences of `seqLen` tokens, hidden `[batch·seqLen, hidden]`.
 * With a cache (batch 1 only), new keys/values are appended and queries see
 * every cached position; otherwise each sequence attends to itself from
 * position `startPos`.
 */
export async function runBlock(
  w: BlockWeights,
  x: Float32Array,
  batch: number,
  seqLen: number,
  startPos: number,
  ctx: BlockContext,
  cache?: KvCache,
): Promise<Float32Array> {
  const c = ctx.config;
  const rows = batch * seqLen;
  const D = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;

  const h1 = new Tensor('f32', [rows, D], await normRows(ctx.backend, x, rows, w.norm1));
  await report(ctx, [w.q, w.k, w.v], h1);
  let q = await linear(ctx.backend, h1, w.q);
  let k = await linear(ctx.backend, h1, w.k);
  const v = await linear(ctx.backend, h1, w.v);
  if (ctx.invFreq) {
    // Biases (Qwen2) are added before RoPE, as in HF.
    const pos = Array.from({ length: rows }, (_, r) => startPos + (r % seqLen));
    q = await ropeRows(ctx.backend, q, rows, c.numHeads, c.headDim, pos, ctx.invFreq);
    k = await ropeRows(ctx.backend, k, rows, c.numKvHeads, c.headDim, pos, ctx.invFreq);
  }
  const att = new Float32Array(rows * qDim);
  const shape = { numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, slidingWindow: c.slidingWindow };
  if (cache) {
    const kv = cache.write(ctx.layer, k, v, seqLen);
    await attendRows(ctx.backend, q, kv.keys, kv.values, seqLen, startPos + seqLen, startPos, shape, att, kv);
  } else {
    // Each sequence is independent: keys at positions startPos…, queries likewise.
    for (let b = 0; b < batch; b++) {
      const qs = q.subarray(b * seqLen * qDim, (b + 1) * seqLen * qDim);
      const ks = k.subarray(b * seqLen * kvDim, (b + 1) * seqLen * kvDim);
      const vs = v.subarray(b * seqLen * kvDim, (b + 1) * seqLen * kvDim);
      await attendRows(ctx.backend, qs, ks, vs, seqLen, seqLen, 0, shape, att.subarray(b * seqLen * qDim, (b + 1) * seqLen * qDim));
    }
  }
  const attT = new Tensor('f32', [rows, qDim], att);
  await report(ctx, [w.o], attT);
  const o = await linear(ctx.backend, attT, w.o);
  const h = new Float32Array(rows * D);
  for (let i = 0; i < h.length; i++) h[i] = x[i]! + o[i]!;

  const h2 = new Tensor('f32', [rows, D], await normRows(ctx.backend, h, rows, w.norm2));
  let mid: Float32Array;
  if (w.gate) {
    await report(ctx, [w.gate, w.up], h2);
    const gate = await linear(ctx.backend, h2, w.gate);
    const up = await linear(ctx.backend, h2, w.up);
    mid = await gatedActivation(ctx.backend, gate, up, rows, c.activation, activate);
  } else {
    await report(ctx, [w.up], h2);
    mid = await linear(ctx.backend, h2, w.up);
    activate(mid, c.activation);
  }
  const midT = new Tensor('f32', [rows, mid.length / rows], mid);
  await report(ctx, [w.down], midT);
  const d = await linear(ctx.backend, midT, w.down);
  for (let i = 0; i < h.length; i++) h[i] = h[i]! + d[i]!;
  return h;
}
