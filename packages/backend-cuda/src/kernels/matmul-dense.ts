/**
 * `matmulDense` on CUDA. Default: dense_f32.cu (CUDA cores, f32 exact to the
 * contract). With `tensorCores: true`: the weight is rounded to f16 once,
 * packed into fragments on the host, and run on dense_f16_mma.cu.
 */
import { f32ArrayToF16, Tensor, type KernelImpl } from '@sparq/tensor';
import { deviceWeight, requireAddon, uploadNew, withBuffers, type CudaContext } from '../context';
import { packF16Fragments, roundUp } from '../packing/fragments';
import { runMma } from './run-mma';

function shapeCheck(a: Tensor, b: Tensor, transposeB: boolean): true | string {
  if (a.dtype !== 'f32' || b.dtype !== 'f32') return `matmulDense needs f32 operands, found ${a.dtype} and ${b.dtype}`;
  if (a.rank !== 2 || b.rank !== 2) return `matmulDense needs rank-2 operands, found [${a.shape}] and [${b.shape}]`;
  const k = transposeB ? b.shape[1] : b.shape[0];
  if (a.shape[1] !== k) return `matmulDense shape mismatch: a is [${a.shape}], b is [${b.shape}]${transposeB ? ' (transposed)' : ''}`;
  return true;
}

/** [n, k] row-major copy of b (b itself when already `[n, k]`). */
function weightRows(b: Tensor<'f32'>, transposeB: boolean): Float32Array {
  if (transposeB) return b.data;
  const [k, n] = b.shape as [number, number];
  const out = new Float32Array(n * k);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[j * k + p] = b.data[p * n + j]!;
  return out;
}

/** The `matmulDense` kernel. */
export const matmulDense: KernelImpl<'matmulDense', CudaContext> = {
  name: 'matmulDense',
  supports: ({ a, b }, { transposeB }) => shapeCheck(a, b, transposeB),
  run({ a, b }, { transposeB }, ctx) {
    const m = a.shape[0]!;
    const k = a.shape[1]!;
    const n = transposeB ? b.shape[0]! : b.shape[1]!;
    if (m === 0 || n === 0 || k === 0) return new Tensor('f32', [m, n], new Float32Array(m * n));
    const addon = requireAddon(ctx);
    if (ctx.tensorCores) {
      const dw = deviceWeight(ctx, b, `f16:${transposeB}`, () => {
        const nPad = roundUp(n, 16);
        const kPad = roundUp(k, 32);
        // f16 / bf16 weights widen exactly to f32 first (once: device weights are cached by b's identity).
        const frag = packF16Fragments(f32ArrayToF16(weightRows(b.toF32(), transposeB)), n, k, nPad, kPad);
        const w = uploadNew(addon, frag);
        return { kernel: 'dense_f16', args: { w, nPad, kPad }, buffers: [w] };
      });
      return runMma(ctx, dw, a, n);
    }
    const dw = deviceWeight(ctx, b, 'f32', () => {
      const w = uploadNew(addon, b.toF32().data);
      return { kernel: 'dense_f32', args: { b: w }, buffers: [w] };
    });
    const out = new Float32Array(m * n);
    withBuffers(addon, [m * k * 4, m * n * 4], ([x, y]) => {
      addon.upload(x!, a.data);
      addon.launch('dense_f32', { a: x, b: dw.args.b, y, m, k, n, transB: transposeB });
      addon.sync();
      addon.download(y!, out);
    });
    return new Tensor('f32', [m, n], out);
  },
};
