/// <reference types="@webgpu/types" />
/**
 * The matmul kernels: dense (`transposeB` → the row kernel, GEMV-shaped;
 * `[k, n]` → tiled GEMM) and the compressed layouts (row kernels that decode
 * the packed bytes on the fly). Weights are uploaded once per weight object.
 */
import {
  matmulDenseShape,
  SparqError,
  Tensor,
  validatePacked,
  type KernelImpl,


  type PackedMatrix,


} from '@sparq/tensor';
import { runtimeOf, type WebGpuContext } from '../context';
import type { GpuRuntime } from '../runtime';
import { matmulParamsData, ROWS_PER_WG, type MatmulParams } from '../shaders/common';
import { GEMM_TILE, gemmTiledWgsl } from '../shaders/gemm-tiled';
import { rowKernelKey, rowKernelWgsl, type RowKernelSpec } from '../shaders/matmul-rows';
import type { DeviceWeight } from '../weight-cache';
import { denseArrays, packedArrays, type DenseLayout } from '../weight-layout';
import { uploadRowChunks } from './upload';

/** Grid dimension every WebGPU device supports (`maxComputeWorkgroupsPerDimension` default). */
const GRID_MIN = 65535;
/** Largest m of the row kernels: one grid dimension of {@link ROWS_PER_WG}-row tiles. */
export const MAX_ROWS_M = GRID_MIN * ROWS_PER_WG;

const rowBytes = (count: number, bits: number): number => Math.ceil((count * bits) / 8);
const idxBits = (m: number): number => Math.max(1, Math.ceil(Math.log2(m)));

function checkActivations(rt: GpuRuntime, a: Tensor<'f32'>, what: string): void {
  if (a.data.byteLength + 8 > rt.deviceMaxBinding) {
    throw new SparqError('E_KERNEL_UNSUPPORTED', `${what}: activations of ${a.data.byteLength} bytes exceed the storage binding limit ${rt.deviceMaxBinding}; split the batch`);
  }
}

/**
 * Runs a row kernel over every chunk of an uploaded weight: `out [m, rows] =
 * a [m, k] · decode(w)ᵀ`, one dispatch per chunk writing its columns.
 */
async function runRowKernel(
  rt: GpuRuntime,
  what: string,
  a: Tensor<'f32'>,
  rows: number,
  spec: RowKernelSpec,
  weight: DeviceWeight,
  params: MatmulParams,
): Promise<Tensor<'f32'>> {
  const m = a.shape[0]!;
  const k = a.shape[1]!;
  checkActivations(rt, a, what);
  const key = rowKernelKey(spec);
  const data = await rt.execute(what, m * rows, (out, temp) => {
    const aBuf = temp(a.data, `${what}: a`);
    return weight.chunks.map((c) => ({
      key,
      wgsl: () => rowKernelWgsl(spec),
      uniforms: matmulParamsData({ ...params, m, k, n: c.r1 - c.r0, j0: c.r0, ldo: rows }),
      buffers: [aBuf, out, ...c.buffers],
      grid: [c.r1 - c.r0, Math.ceil(m / ROWS_PER_WG)] as const,
    }));
  });
  return new Tensor('f32', [m, rows], data);
}

/** Shape check of every compressed matmul. */
function packedShape(a: Tensor<'f32'>, w: PackedMatrix): [m: number, k: number, n: number] {
  validatePacked(w);
  if (a.rank !== 2 || a.shape[1] !== w.cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `compressed matmul: a is [${a.shape}] but the ${w.kind} weight has ${w.cols} columns`, {
      details: { expected: `[m, ${w.cols}]`, found: `[${a.shape}]` },
    });
  }
  return [a.shape[0]!, w.cols, w.rows];
}

/** The row-kernel spec and the per-format uniforms of a packed weight. */
function packedSpec(w: PackedMatrix): { spec: RowKernelSpec; params: MatmulParams } {
  switch (w.kind) {
    case 'quant': {
      const G = w.cols / w.groupSize;
      return { spec: { kind: 'quant', bits: w.bits, sym: w.sym }, params: { gs: w.groupSize, G, rb: rowBytes(w.cols, w.bits), zb: rowBytes(G, w.bits) } };
    }
    case 'nm': {
      const L = (w.cols / w.m) * w.n;
      return { spec: { kind: 'nm', n: w.n, m: w.m }, params: { L, ib: rowBytes(L, idxBits(w.m)) } };
    }
    case 'nm-quant': {
      const L = (w.cols / w.m) * w.n;
      const G = w.cols / w.groupSize;
      return {
        spec: { kind: 'nm-quant', bits: w.bits, sym: w.sym, n: w.n, m: w.m },
        params: { L, ib: rowBytes(L, idxBits(w.m)), G, rb: rowBytes(L, w.bits), zb: rowBytes(G, w.bits), spg: (w.groupSize / w.m) * w.n },
      };
    }
    case 'spqr': {
      const G = w.cols / w.groupSize;
      return { spec: { kind: 'spqr', bits: w.bits }, params: { gs: w.groupSize, G, rb: rowBytes(w.cols, w.bits) } };
    }
  }
}

/** `a · decode(w)ᵀ` on the device, for any packed layout. */
async function matmulPacked(a: Tensor<'f32'>, w: PackedMatrix, ctx: WebGpuContext): Promise<Tensor<'f32'>> {
  const [m, k, n] = packedShape(a, w);
  if (m === 0 || n === 0 || k === 0) return Tensor.zeros('f32', [m, n]);
  const rt = runtimeOf(ctx);
  const { spec, params } = packedSpec(w);
  return rt.exclusive(async () => {
    const weight = await ctx.weights.get(w, w.kind, () => uploadRowChunks(rt, `${w.kind} weight [${w.rows}, ${w.cols}]`, w.kind, n, packedArrays(w), rt.maxGrid));
    return runRowKernel(rt, `matmul (${w.kind}) m=${m} k=${k} n=${n}`, a, n, spec, weight, params);
  });
}

function supportsM(m: number): true | string {
  return m <= MAX_ROWS_M ? true : `m = ${m} activation rows exceed ${MAX_ROWS_M} (one grid dimension); split the batch`;
}

/**
 * `matmulDense`: for `transposeB` (the `Linear` layout, f32 or f16 storage)
 * the row kernel when m ≤ {@link ROWS_PER_WG} (GEMV, decode) and the tiled
 * GEMM above that (prefill); for `[k, n]` always the tiled GEMM.
 */
export const matmulDense: KernelImpl<'matmulDense', WebGpuContext> = {
  name: 'matmulDense',
  supports: (inputs) => supportsM(inputs.a.shape[0] ?? 0),
  async run(inputs, attrs, ctx) {
    const [m, k, n] = matmulDenseShape(inputs, attrs);
    if (m === 0 || n === 0 || k === 0) return Tensor.zeros('f32', [m, n]);
    const rt = runtimeOf(ctx);
    const { a, b } = inputs;
    const layout: DenseLayout = attrs.transposeB ? (ctx.options.denseWeights === 'f16' ? 'T-f16' : 'T-f32') : 'N-f32';
    const what = `matmulDense m=${m} k=${k} n=${n}`;
    return rt.exclusive(async () => {
      // Chunks hold at most one grid dimension of rows (row kernel) or of 16-wide tiles (GEMM).
      const maxRows = layout === 'N-f32' ? rt.maxGrid * GEMM_TILE : rt.maxGrid;
      const weight = await ctx.weights.get(b, layout, () =>
        // f16 / bf16 weights widen exactly to f32 here (once: the upload is cached by b's identity).
        uploadRowChunks(rt, `dense weight [${b.shape}]`, layout, n, [denseArrays(b.toF32(), layout)], maxRows),
      );
      if (layout !== 'N-f32' && m <= ROWS_PER_WG) {
        return runRowKernel(rt, what, a, n, { kind: layout === 'T-f16' ? 'dense-f16' : 'dense' }, weight, {});
      }
      checkActivations(rt, a, what);
      const data = await rt.execute(what, m * n, (out, temp) => {
        const aBuf = temp(a.data, `${what}: a`);
        return weight.chunks.map((c) => ({
          key: `gemm-tiled:${layout}`,
          wgsl: () => gemmTiledWgsl(layout),
          uniforms: matmulParamsData({ m, k, n: c.r1 - c.r0, j0: c.r0, ldo: n }),
          buffers: [aBuf, out, ...c.buffers],
          grid: [Math.ceil((c.r1 - c.r0) / GEMM_TILE), Math.ceil(m / GEMM_TILE)] as const,
        }));
      });
      return new Tensor('f32', [m, n], data);
    });
  },
};

/** `matmulQuant` (§2): any bits ∈ {2, 3, 4, 8}, sym/asym, any group size. Exact f32 decode, f32 accumulation. */
export const matmulQuant: KernelImpl<'matmulQuant', WebGpuContext> = {
  name: 'matmulQuant',
  supports: (inputs) => supportsM(inputs.a.shape[0] ?? 0),
  run: (inputs, _attrs, ctx) => matmulPacked(inputs.a, inputs.w, ctx),
};

/** `matmulNM` (§3): any N:M with m ≤ 16, f32 values. */
export const matmulNM: KernelImpl<'matmulNM', WebGpuContext> = {
  name: 'matmulNM',
  supports: (inputs) => supportsM(inputs.a.shape[0] ?? 0),
  run: (inputs, _attrs, ctx) => matmulPacked(inputs.a, inputs.w, ctx),
};

/** `matmulNMQuant` (§4): N:M positions plus group-quantized kept values. */
export const matmulNMQuant: KernelImpl<'matmulNMQuant', WebGpuContext> = {
  name: 'matmulNMQuant',
  supports: (inputs) => supportsM(inputs.a.shape[0] ?? 0),
  run: (inputs, _attrs, ctx) => matmulPacked(inputs.a, inputs.w, ctx),
};

/** `matmulSpqr` (§2, §5, §6): bilevel statistics decoded once at upload, outliers applied in the kernel. */
export const matmulSpqr: KernelImpl<'matmulSpqr', WebGpuContext> = {
  name: 'matmulSpqr',
  supports: (inputs) => supportsM(inputs.a.shape[0] ?? 0),
  run: (inputs, _attrs, ctx) => matmulPacked(inputs.a, inputs.w, ctx),
};
