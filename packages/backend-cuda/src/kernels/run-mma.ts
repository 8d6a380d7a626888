/**
 * The per-call part shared by every tensor-core kernel: upload the f32
 * activations, convert them to zero-padded f16 on the device (x_to_f16), run
 * the weight's kernel, download `y`.
 */
import { Tensor } from '@sparq/tensor';
import { requireAddon, withBuffers, type CudaContext, type DeviceWeight } from '../context';
import { roundUp } from '../packing/fragments';

/** `a [m, k] · Wᵀ` on the device weight `dw` (which knows its kPad); returns `[m, n]` f32. */
export function runMma(ctx: CudaContext, dw: DeviceWeight, a: Tensor<'f32'>, n: number): Tensor<'f32'> {
  const m = a.shape[0]!;
  const k = a.shape[1]!;
  const out = new Float32Array(m * n);
  if (m === 0 || n === 0) return new Tensor('f32', [m, n], out);
  const addon = requireAddon(ctx);
  const kPad = Number(dw.args.kPad);
  const mPad = roundUp(m, 8);
  withBuffers(addon, [m * k * 4, mPad * kPad * 2, m * n * 4], ([x, xh, y]) => {
    addon.upload(x!, a.data);
    addon.launch('x_to_f16', { x, xh, m, k, mPad, kPad });
    addon.launch(dw.kernel, { ...dw.args, x: xh, y, m, mPad, n });
    addon.sync();
    addon.download(y!, out);
  });
  return new Tensor('f32', [m, n], out);
}
