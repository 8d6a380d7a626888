/**
 * `matmulDense` on wasm SIMD: out [m, n] = a [m, k] · b (or bᵀ).
 *
 * Layout: `b` is copied into the wasm heap once per tensor (cached by identity)
 * as [n, k], so every output is a dot product of two contiguous rows; f16 and
 * bf16 weights stay half precision there (half the bytes to stream) and are
 * widened exactly in the kernel (assembly/lib/half.ts), giving the f32
 * kernel's result on the widened weights bit for bit; `a` and
 * `out` live in scratch regions reused across calls. Threads split the output
 * columns (rows of W): for the GEMV each thread streams a disjoint part of W
 * (bandwidth adds up), for the GEMM each reads all of `a` (small, shared in L3)
 * and its own W rows. See assembly/dense.ts for the tiling.
 */
import { matmulDenseShape, SparqError, Tensor, type KernelAttrs, type KernelImpl, type KernelInputs } from '@sparq/tensor';
import { requireRuntime, type CpuWasmContext } from '../context';
import { JOB } from '../runtime/control-block';
import { HALF_GEMM_ROWS, HALF_KIND, stripBytes } from '../runtime/wasm-module';

/** Largest operand the 4 GiB wasm32 memory can hold next to the others. */
const MAX_OPERAND_BYTES = 2 ** 31;

function validateMatmulDense(inputs: KernelInputs<'matmulDense'>, attrs: KernelAttrs<'matmulDense'>): true | string {
  const { a, b } = inputs;
  if (a.dtype !== 'f32') return `needs f32 activations, found a ${a.dtype}`;
  if (b.dtype !== 'f32' && b.dtype !== 'f16' && b.dtype !== 'bf16') return `needs f32, f16 or bf16 weights, found b ${String(b.dtype)}`;
  let mkn: [number, number, number];
  try {
    mkn = matmulDenseShape(inputs, attrs);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  const [m, k, n] = mkn;
  if (m * k * 4 > MAX_OPERAND_BYTES || k * n * 4 > MAX_OPERAND_BYTES || m * n * 4 > MAX_OPERAND_BYTES) {
    return `operands larger than 2 GiB do not fit the 4 GiB wasm32 memory (m=${m}, k=${k}, n=${n})`;
  }
  return true;
}

function runMatmulDense(
  inputs: KernelInputs<'matmulDense'>,
  attrs: KernelAttrs<'matmulDense'>,
  ctx: CpuWasmContext,
): Tensor<'f32'> {
  const ok = validateMatmulDense(inputs, attrs);
  if (ok !== true) throw new SparqError('E_KERNEL_UNSUPPORTED', `cpu-wasm matmulDense: ${ok}`);
  const [m, k, n] = matmulDenseShape(inputs, attrs);
  // Zero-size dims: an empty product is all zeros (k = 0) or an empty tensor.
  if (m === 0 || n === 0 || k === 0) return Tensor.zeros('f32', [m, n]);
  const { memories, pool } = requireRuntime(ctx);
  // The weight's memory: activations and output go there too.
  const { slot, ref } = memories.dense(inputs.b, attrs.transposeB);
  const heap = slot.heap;
  const aPtr = heap.scratchPtr(0, m * k * 4);
  const outPtr = heap.scratchPtr(1, m * n * 4);
  // Below the threshold a worker wake-up (futex, up to ~100 µs) costs more than it saves.
  const nth = m * k * n < ctx.minParallelWork ? 1 : Math.min(pool.threads, Math.ceil(n / 4));
  // GEMM: the 4-row strips of a packed for the register tiles (one address per strip instead of one per row).
  const strips = stripBytes(m, k);
  const apPtr = ref.half === undefined && strips > 0 ? heap.scratchPtr(3, strips) : 0;
  // Half-precision GEMM: each thread widens 64-row blocks of W into its own scratch; the strips follow.
  const rowBytes = nth * HALF_GEMM_ROWS * k * 4;
  const rows = ref.half !== undefined && m > HALF_ROW_GEMV_MAX_M ? heap.scratchPtr(2, rowBytes + strips) : 0;
  // Allocations above may have grown the memory: take the view afterwards.
  const f32 = heap.f32;
  if (ref.half === undefined) {
    f32.set(inputs.a.data, aPtr >>> 2);
    if (apPtr !== 0) slot.ex.packStrips(aPtr, apPtr, m, k);
    pool.run(JOB.MATMUL, [aPtr, ref.ptr, outPtr, m, k, n, apPtr], nth, slot.id);
  } else {
    // The GEMV (also per row for small batches) takes pre-scaled f16 kinds; the GEMM widens rows as stored.
    const gemv = m <= HALF_ROW_GEMV_MAX_M;
    const kind = gemv && ref.half !== HALF_KIND.bf16 && scaleForF16(inputs.a.data, f32, aPtr >>> 2) ? scaledKind(ref.half) : ref.half;
    if (kind === ref.half) f32.set(inputs.a.data, aPtr >>> 2);
    if (rows !== 0) slot.ex.packStrips(aPtr, rows + rowBytes, m, k);
    pool.run(JOB.MATMUL_HALF, [aPtr, ref.ptr, outPtr, m, k, n, kind, rows], nth, slot.id);
  }
  const start = outPtr >>> 2;
  return new Tensor('f32', [m, n], f32.slice(start, start + m * n));
}

/** Largest batch of half-precision weights that runs the GEMV once per activation row (must match HALF_ROW_GEMV_MAX_M in assembly/dense.ts). */
const HALF_ROW_GEMV_MAX_M = 3;

/** 2^112: see scaleForF16. */
const F16_SCALE = 2 ** 112;

/**
 * Writes x·2^112 for the f16 GEMV's pre-scaled kinds (HALF_F16_FINITE_SCALED in
 * assembly/lib/half.ts: one multiply per 4 weights less, same products) and
 * returns true — unless some |x| ≥ 2^16 (x·2^112 would overflow) or is NaN,
 * then it writes nothing and returns false. The scaling is exact: a power of two.
 */
function scaleForF16(x: Float32Array, dst: Float32Array, at: number): boolean {
  for (let i = 0; i < x.length; i++) if (!(Math.abs(x[i]!) < 65536)) return false;
  for (let i = 0; i < x.length; i++) dst[at + i] = x[i]! * F16_SCALE;
  return true;
}

/** The pre-scaled counterpart of an f16 kind. */
function scaledKind(half: number): number {
  return half === HALF_KIND.f16 ? HALF_KIND.f16Scaled : HALF_KIND.f16FiniteScaled;
}

/** The cpu-wasm `matmulDense` kernel (GEMV for m = 1, register-tiled GEMM otherwise; f32, f16 or bf16 weights; half-precision batches up to 3 run the GEMV per row). */
export const matmulDense: KernelImpl<'matmulDense', CpuWasmContext> = {
  name: 'matmulDense',
  supports: (inputs, attrs) => validateMatmulDense(inputs, attrs),
  run: runMatmulDense,
};
