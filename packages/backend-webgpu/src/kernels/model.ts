/// <reference types="@webgpu/types" />
/**
 * The optional model kernels on the device: `rmsNorm`, `rope`, `attention`,
 * `siluMul` (specs in `KernelSpecs` of @sparq/tensor). Inputs are uploaded per
 * call; the RMSNorm weight is cached like any weight.
 */
import { attentionShape, rmsNormShape, ropeShape, siluMulShape, Tensor, type KernelImpl } from '@sparq/tensor';
import { runtimeOf, type WebGpuContext } from '../context';
import { ATTENTION_MAX_HEAD_DIM, ATTENTION_WGSL, MODEL_WG, RMS_NORM_WGSL, ROPE_WGSL, SILU_MUL_WGSL } from '../shaders/model';
import { uploadRowChunks } from './upload';
import { fixedRows } from '../split';

/** A uniform block of u32 fields, with f32 fields at the given indexes. */
function uniforms(u32: readonly number[], f32: Record<number, number> = {}): Uint32Array {
  const out = new Uint32Array(Math.ceil(u32.length / 4) * 4);
  out.set(u32);
  const f = new Float32Array(out.buffer);
  for (const [i, v] of Object.entries(f32)) f[Number(i)] = v;
  return out;
}

/** `rmsNorm`: one workgroup per row. */
export const rmsNorm: KernelImpl<'rmsNorm', WebGpuContext> = {
  name: 'rmsNorm',
  async run(inputs, attrs, ctx) {
    const [m, d] = rmsNormShape(inputs);
    if (m === 0 || d === 0) return Tensor.zeros('f32', [m, d]);
    const rt = runtimeOf(ctx);
    const { x, weight } = inputs;
    return rt.exclusive(async () => {
      const w = await ctx.weights.get(weight, 'norm', () =>
        uploadRowChunks(rt, `norm weight [${d}]`, 'norm', 1, [{ offset: fixedRows(d * 4), slice: () => weight.data }], 1),
      );
      const data = await rt.execute(`rmsNorm m=${m} d=${d}`, m * d, (out, temp) => [
        {
          key: 'rmsNorm',
          wgsl: () => RMS_NORM_WGSL,
          uniforms: uniforms([m, d, 0, 0], { 2: attrs.eps }),
          buffers: [temp(x.data, 'rmsNorm x'), w.chunks[0]!.buffers[0]!, out],
          grid: rt.grid(m),
        },
      ]);
      return new Tensor('f32', [m, d], data);
    });
  },
};

/** `rope`: cos/sin of every (row, frequency) computed in float64 on the host, rotation on the device. */
export const rope: KernelImpl<'rope', WebGpuContext> = {
  name: 'rope',
  async run(inputs, attrs, ctx) {
    const [m, width] = ropeShape(inputs, attrs);
    const hd = attrs.headDim;
    const half = hd / 2;
    const total = m * (width / hd) * half;
    if (total === 0) return Tensor.zeros('f32', [m, width]);
    const rt = runtimeOf(ctx);
    // float64 angles: positions of thousands times f32 frequencies would lose
    // ~1e-4 rad, and GPU sin/cos of large arguments are imprecise.
    const cs = new Float32Array(m * half * 2);
    for (let r = 0; r < m; r++) {
      const p = inputs.positions.data[r]!;
      for (let i = 0; i < half; i++) {
        const a = p * inputs.invFreq.data[i]!;
        cs[(r * half + i) * 2] = Math.cos(a);
        cs[(r * half + i) * 2 + 1] = Math.sin(a);
      }
    }
    return rt.exclusive(async () => {
      const data = await rt.execute(`rope m=${m} width=${width}`, m * width, (out, temp) => [
        {
          key: 'rope',
          wgsl: () => ROPE_WGSL,
          uniforms: uniforms([total, width, hd, width / hd]),
          buffers: [temp(inputs.x.data, 'rope x'), temp(cs, 'rope cos/sin'), out],
          grid: rt.grid(Math.ceil(total / MODEL_WG)),
        },
      ]);
      return new Tensor('f32', [m, width], data);
    });
  },
};

/** `attention`: one workgroup per (query row, head), online softmax over the cache. */
export const attention: KernelImpl<'attention', WebGpuContext> = {
  name: 'attention',
  supports: (_inputs, attrs) =>
    attrs.headDim <= ATTENTION_MAX_HEAD_DIM ? true : `headDim ${attrs.headDim} exceeds the attention kernel's ${ATTENTION_MAX_HEAD_DIM}`,
  async run(inputs, attrs, ctx) {
    const [m] = attentionShape(inputs, attrs);
    const { numHeads, numKvHeads, headDim, qPos0, slidingWindow } = attrs;
    const width = numHeads * headDim;
    if (m === 0) return Tensor.zeros('f32', [0, width]);
    const rt = runtimeOf(ctx);
    return rt.exclusive(async () => {
      const data = await rt.execute(`attention m=${m} t=${inputs.k.shape[0]}`, m * width, (out, temp) => [
        {
          key: 'attention',
          wgsl: () => ATTENTION_WGSL,
          uniforms: uniforms([m, numHeads, numHeads / numKvHeads, headDim, qPos0, slidingWindow ?? 0, 0, 0], { 6: 1 / Math.sqrt(headDim) }),
          buffers: [temp(inputs.q.data, 'attention q'), temp(inputs.k.data, 'attention k'), temp(inputs.v.data, 'attention v'), out],
          grid: rt.grid(m * numHeads),
        },
      ]);
      return new Tensor('f32', [m, width], data);
    });
  },
};

/** `siluMul`: elementwise. */
export const siluMul: KernelImpl<'siluMul', WebGpuContext> = {
  name: 'siluMul',
  async run(inputs, _attrs, ctx) {
    const [m, f] = siluMulShape(inputs);
    const count = m * f;
    if (count === 0) return Tensor.zeros('f32', [m, f]);
    const rt = runtimeOf(ctx);
    return rt.exclusive(async () => {
      const data = await rt.execute(`siluMul m=${m} f=${f}`, count, (out, temp) => [
        {
          key: 'siluMul',
          wgsl: () => SILU_MUL_WGSL,
          uniforms: uniforms([count, 0, 0, 0]),
          buffers: [temp(inputs.gate.data, 'siluMul gate'), temp(inputs.up.data, 'siluMul up'), out],
          grid: rt.grid(Math.ceil(count / MODEL_WG)),
        },
      ]);
      return new Tensor('f32', [m, f], data);
    });
  },
};
