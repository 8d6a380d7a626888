/**
 * The optional model kernels (`rmsNorm`, `rope`, `attention`, `siluMul`) on
 * CUDA (native/kernels/model.cu): f32 tensors in and out, float64 reductions
 * and angles on the device. Shapes are checked with the reference shape
 * functions of @sparq/tensor, so both backends refuse the same inputs.
 */
import {
  attentionShape,
  rmsNormShape,
  ropeShape,
  siluMulShape,
  Tensor,
  type KernelImpl,
} from '@sparq/tensor';
import { requireAddon, withBuffers, type CudaContext } from '../context';
import type { CudaAddon, DevicePtr } from '../native';

function check(fn: () => unknown): true | string {
  try {
    fn();
    return true;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Uploads `inputs`, allocates `outBytes` (+ extra scratch), runs `launch`, returns the downloaded f32 output. */
function runOnDevice(
  addon: CudaAddon,
  inputs: ArrayBufferView[],
  outLen: number,
  extraBytes: number[],
  launch: (ins: DevicePtr[], out: DevicePtr, extra: DevicePtr[]) => void,
): Float32Array {
  const out = new Float32Array(outLen);
  if (outLen === 0) return out;
  withBuffers(addon, [...inputs.map((a) => a.byteLength), outLen * 4, ...extraBytes], (ptrs) => {
    inputs.forEach((a, i) => addon.upload(ptrs[i]!, a));
    launch(ptrs.slice(0, inputs.length), ptrs[inputs.length]!, ptrs.slice(inputs.length + 1));
    addon.sync();
    addon.download(ptrs[inputs.length]!, out);
  });
  return out;
}

/** `rmsNorm`. */
export const rmsNorm: KernelImpl<'rmsNorm', CudaContext> = {
  name: 'rmsNorm',
  supports: (inputs) => check(() => rmsNormShape(inputs)),
  run({ x, weight }, { eps }, ctx) {
    const [m, d] = rmsNormShape({ x, weight });
    const y = runOnDevice(requireAddon(ctx), [x.data, weight.data], m * d, [], ([xp, wp], yp) =>
      requireAddon(ctx).launch('rmsnorm', { x: xp, w: wp, y: yp, m, d, eps }),
    );
    return new Tensor('f32', [m, d], y);
  },
};

/** `siluMul`. */
export const siluMul: KernelImpl<'siluMul', CudaContext> = {
  name: 'siluMul',
  supports: (inputs) => check(() => siluMulShape(inputs)),
  run({ gate, up }, _attrs, ctx) {
    const [m, f] = siluMulShape({ gate, up });
    const y = runOnDevice(requireAddon(ctx), [gate.data, up.data], m * f, [], ([g, u], yp) =>
      requireAddon(ctx).launch('silu_mul', { gate: g, up: u, y: yp, count: m * f }),
    );
    return new Tensor('f32', [m, f], y);
  },
};

/** `rope` (rotate-half, float64 angles). */
export const rope: KernelImpl<'rope', CudaContext> = {
  name: 'rope',
  supports: (inputs, attrs) => check(() => ropeShape(inputs, attrs)),
  run({ x, positions, invFreq }, { headDim }, ctx) {
    const [m, width] = ropeShape({ x, positions, invFreq }, { headDim });
    const y = runOnDevice(requireAddon(ctx), [x.data, positions.data, invFreq.data], m * width, [], ([xp, pp, fp], yp) =>
      requireAddon(ctx).launch('rope', { x: xp, positions: pp, invFreq: fp, y: yp, m, width, hd: headDim }),
    );
    return new Tensor('f32', [m, width], y);
  },
};

/** `attention` (causal, grouped-query, optional sliding window). */
export const attention: KernelImpl<'attention', CudaContext> = {
  name: 'attention',
  supports: (inputs, attrs) => check(() => attentionShape(inputs, attrs)),
  run({ q, k, v }, attrs, ctx) {
    const [m, t] = attentionShape({ q, k, v }, attrs);
    const { numHeads, numKvHeads, headDim, qPos0, slidingWindow } = attrs;
    const y = runOnDevice(requireAddon(ctx), [q.data, k.data, v.data], m * numHeads * headDim, [m * numHeads * t * 8], ([qp, kp, vp], yp, [scratch]) =>
      requireAddon(ctx).launch('attention', { q: qp, k: kp, v: vp, y: yp, scratch, m, t, numHeads, numKvHeads, hd: headDim, qPos0, window: slidingWindow ?? 0 }),
    );
    return new Tensor('f32', [m, numHeads * headDim], y);
  },
};
