/**
 * The compressed matmul kernels on CUDA and how each packed layout is routed:
 * - §2 4-bit, groupSize % 16 = 0           → int4_mma.cu (fused register dequant)
 * - §4 2:4, 4-bit, groupSize % 32 = 0      → sparse24_int4_mma.cu (mma.sp)
 * - other §2 / §4 (2, 3, 8 bits; odd groups; other N:M) → decoded once on the
 *   device to f16 (decode_packed.cu), then dense_f16_mma.cu
 * - §3 (f32 values)                        → nm_f32.cu (exact f32, any N:M);
 *   with `tensorCores: true` and 2:4       → sparse24_mma.cu (values in f16)
 * - SpQR (§2/§5/§6)                        → decoded once on the host to f16
 *   (packing/spqr.ts), then dense_f16_mma.cu
 * Packed weights are uploaded once per object and cached until `release()`.
 */
import {
  validatePacked,
  Tensor,
  type KernelImpl,
  type NMMatrix,
  type NMQuantMatrix,
  type PackedMatrix,
  type QuantizedMatrix,
  type SpqrMatrix,
} from '@sparq/tensor';
import { deviceWeight, requireAddon, uploadNew, withBuffers, type CudaContext, type DeviceWeight } from '../context';
import { roundUp } from '../packing/fragments';
import { groupStatsF16 } from '../packing/group-stats';
import { packInt4 } from '../packing/int4';
import { packSparse24F16, packSparse24Int4 } from '../packing/sparse24';
import { spqrToF16Fragments } from '../packing/spqr';
import { runMma } from './run-mma';

/** Which native path a packed weight takes (exported for tests and the bench). */
export type CudaPackedPath = 'int4' | 'sparse24_int4' | 'decode_f16' | 'nm_f32' | 'sparse24' | 'spqr_f16';

/** The path `w` takes on a backend with the given `tensorCores` option. */
export function cudaPackedPath(w: PackedMatrix, tensorCores = false): CudaPackedPath {
  switch (w.kind) {
    case 'quant':
      return w.bits === 4 && w.groupSize % 16 === 0 ? 'int4' : 'decode_f16';
    case 'nm-quant':
      return w.n === 2 && w.m === 4 && w.bits === 4 && w.groupSize % 32 === 0 ? 'sparse24_int4' : 'decode_f16';
    case 'nm':
      return tensorCores && w.n === 2 && w.m === 4 ? 'sparse24' : 'nm_f32';
    case 'spqr':
      return 'spqr_f16';
  }
}

function checkInputs(a: Tensor, w: PackedMatrix): true | string {
  if (a.dtype !== 'f32' || a.rank !== 2) return `activations must be rank-2 f32, found ${a.dtype} [${a.shape}]`;
  if (a.shape[1] !== w.cols) return `activations are [${a.shape}] but the ${w.kind} weight has ${w.cols} columns`;
  try {
    validatePacked(w);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return true;
}

function upload(ctx: CudaContext, ...arrays: ArrayBufferView[]): bigint[] {
  const addon = requireAddon(ctx);
  const ptrs: bigint[] = [];
  try {
    for (const a of arrays) ptrs.push(uploadNew(addon, a));
  } catch (e) {
    for (const p of ptrs) addon.free(p);
    throw e;
  }
  return ptrs;
}

/** Device copy of a §2/§4 weight decoded to f16 fragments (generic path). */
function decodedWeight(ctx: CudaContext, w: QuantizedMatrix | NMQuantMatrix): DeviceWeight {
  const addon = requireAddon(ctx);
  const nPad = roundUp(Math.max(w.rows, 1), 16);
  const kPad = roundUp(Math.max(w.cols, 1), 32);
  const srcs: ArrayBufferView[] = [w.codes, w.scales, w.zeros ?? new Uint8Array(4)];
  if (w.kind === 'nm-quant') srcs.push(w.indices);
  const [codes, scales, zeros, indices] = upload(ctx, ...srcs);
  const out = addon.alloc(nPad * kPad * 2);
  try {
    addon.launch('decode_f16', {
      rows: w.rows,
      cols: w.cols,
      nPad,
      kPad,
      bits: w.bits,
      groupSize: w.groupSize,
      sym: w.sym ? 1 : 0,
      codes,
      scales,
      zeros,
      nKeep: w.kind === 'nm-quant' ? w.n : 0,
      mGroup: w.kind === 'nm-quant' ? w.m : 0,
      indices,
      out,
    });
    addon.sync();
  } finally {
    for (const p of [codes, scales, zeros, indices]) if (p !== undefined) addon.free(p);
  }
  return { kernel: 'dense_f16', args: { w: out, nPad, kPad }, buffers: [out] };
}

function int4Weight(ctx: CudaContext, w: QuantizedMatrix): DeviceWeight {
  const p = packInt4(w);
  const st = groupStatsF16(w.rows, p.nPad, w.cols / w.groupSize, 4, w.scales, w.zeros, w.sym);
  const [codes, scales, zeros] = upload(ctx, p.codes, st.scales, st.zeros);
  return {
    kernel: 'int4',
    args: { w: codes!, scales: scales!, zeros: zeros!, groups: st.groups, groupSize: w.groupSize, nPad: p.nPad, kPad: p.kPad },
    buffers: [codes!, scales!, zeros!],
  };
}

function sparse24Int4Weight(ctx: CudaContext, w: NMQuantMatrix): DeviceWeight {
  const p = packSparse24Int4(w);
  const st = groupStatsF16(w.rows, p.nPad, w.cols / w.groupSize, 4, w.scales, w.zeros, w.sym);
  const [codes, meta, scales, zeros] = upload(ctx, p.codes, p.meta, st.scales, st.zeros);
  return {
    kernel: 'sparse24_int4',
    args: { w: codes!, meta: meta!, scales: scales!, zeros: zeros!, groups: st.groups, groupSize: w.groupSize, nPad: p.nPad, kPad: p.kPad },
    buffers: [codes!, meta!, scales!, zeros!],
  };
}

function sparse24Weight(ctx: CudaContext, w: NMMatrix): DeviceWeight {
  const p = packSparse24F16(w);
  const [values, meta] = upload(ctx, p.values, p.meta);
  return { kernel: 'sparse24', args: { w: values!, meta: meta!, nPad: p.nPad, kPad: p.kPad }, buffers: [values!, meta!] };
}

function zeros(m: number, n: number): Tensor<'f32'> {
  return new Tensor('f32', [m, n], new Float32Array(m * n));
}

/** `matmulQuant` (§2). */
export const matmulQuant: KernelImpl<'matmulQuant', CudaContext> = {
  name: 'matmulQuant',
  supports: ({ a, w }) => checkInputs(a, w),
  run({ a, w }, _attrs, ctx) {
    if (a.shape[0] === 0 || w.rows === 0 || w.cols === 0) return zeros(a.shape[0]!, w.rows);
    const path = cudaPackedPath(w);
    const dw = deviceWeight(ctx, w, path, () => (path === 'int4' ? int4Weight(ctx, w) : decodedWeight(ctx, w)));
    return runMma(ctx, dw, a, w.rows);
  },
};

/** `matmulNMQuant` (§4). */
export const matmulNMQuant: KernelImpl<'matmulNMQuant', CudaContext> = {
  name: 'matmulNMQuant',
  supports: ({ a, w }) => checkInputs(a, w),
  run({ a, w }, _attrs, ctx) {
    if (a.shape[0] === 0 || w.rows === 0 || w.cols === 0) return zeros(a.shape[0]!, w.rows);
    const path = cudaPackedPath(w);
    const dw = deviceWeight(ctx, w, path, () => (path === 'sparse24_int4' ? sparse24Int4Weight(ctx, w) : decodedWeight(ctx, w)));
    return runMma(ctx, dw, a, w.rows);
  },
};

/** `matmulNM` (§3): exact f32 by default, 2:4 sparse tensor cores with `tensorCores: true`. */
export const matmulNM: KernelImpl<'matmulNM', CudaContext> = {
  name: 'matmulNM',
  supports: ({ a, w }) => checkInputs(a, w),
  run({ a, w }, _attrs, ctx) {
    const m = a.shape[0]!;
    const n = w.rows;
    const k = w.cols;
    if (m === 0 || n === 0 || k === 0) return zeros(m, n);
    if (cudaPackedPath(w, ctx.tensorCores) === 'sparse24') return runMma(ctx, deviceWeight(ctx, w, 'sparse24', () => sparse24Weight(ctx, w)), a, n);
    const addon = requireAddon(ctx);
    const dw = deviceWeight(ctx, w, 'nm_f32', () => {
      const [values, indices] = upload(ctx, w.values, w.indices);
      return { kernel: 'nm_f32', args: { values: values!, indices: indices! }, buffers: [values!, indices!] };
    });
    const out = new Float32Array(m * n);
    withBuffers(addon, [m * k * 4, m * n * 4], ([x, y]) => {
      addon.upload(x!, a.data);
      addon.launch('nm_f32', { a: x, values: dw.args.values, indices: dw.args.indices, y, m, k, n, nKeep: w.n, mGroup: w.m });
      addon.sync();
      addon.download(y!, out);
    });
    return new Tensor('f32', [m, n], out);
  },
};

/** `matmulSpqr` (§2 + §5 + §6): decoded to f16 once per weight, then the dense tensor-core kernel. */
export const matmulSpqr: KernelImpl<'matmulSpqr', CudaContext> = {
  name: 'matmulSpqr',
  supports: ({ a, w }) => checkInputs(a, w),
  run({ a, w }, _attrs, ctx) {
    if (a.shape[0] === 0 || w.rows === 0 || w.cols === 0) return zeros(a.shape[0]!, w.rows);
    return runMma(ctx, deviceWeight(ctx, w, 'spqr_f16', () => spqrWeight(ctx, w)), a, w.rows);
  },
};

function spqrWeight(ctx: CudaContext, w: SpqrMatrix): DeviceWeight {
  const p = spqrToF16Fragments(w);
  const [frag] = upload(ctx, p.fragments);
  return { kernel: 'dense_f16', args: { w: frag!, nPad: p.nPad, kPad: p.kPad }, buffers: [frag!] };
}
