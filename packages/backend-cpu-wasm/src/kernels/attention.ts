/**
 * The optional `attention` model kernel on wasm SIMD (assembly/lib/attention.ts):
 * causal grouped-query attention of `m` queries against a `t`-row key/value
 * cache, threads splitting the (query row, head) pairs. `@sparq/lm` routes its
 * attention here when this backend supports the call; its own float64 JS loop
 * spends ~2 ms per decode token in one 32-head layer at t = 160, ~15 ms at
 * t = 1024, more than the INT4 linears of the layer.
 *
 * q, k and v are copied into the primary wasm memory (the contract has no
 * device-resident tensors): 2·t·kvWidth·4 bytes for the cache, a memcpy at
 * several GB/s — unless the caller passes the `cacheId` / `cachedRows` hint,
 * in which case the cache stays resident (runtime/kv-mirrors.ts) and only the
 * new rows are copied.
 */
import { attentionShape, SparqError, Tensor, type KernelAttrs, type KernelImpl, type KernelInputs } from '@sparq/tensor';
import { requireRuntime, type CpuWasmContext } from '../context';
import { JOB } from '../runtime/control-block';

/** Largest total of operands the 4 GiB wasm32 memory is asked to hold for one call. */
const MAX_OPERAND_BYTES = 2 ** 31;
const DESC_BYTES = 64;

// Descriptor words (assembly/lib/attention.ts A_*).
const A = {
  Q: 0, K: 1, V: 2, OUT: 3, M: 4, T: 5, HEADS: 6, KV_HEADS: 7, HD: 8, QPOS0: 9, WINDOW: 10, SCRATCH: 11, SCRATCH_STRIDE: 12,
  KV_ROW_STRIDE: 13, KV_HEAD_STRIDE: 14,
} as const;

const align64 = (x: number): number => Math.ceil(x / 64) * 64;

function validate(inputs: KernelInputs<'attention'>, attrs: KernelAttrs<'attention'>): true | string {
  const { q, k, v } = inputs;
  if (q.dtype !== 'f32' || k.dtype !== 'f32' || v.dtype !== 'f32') return `needs f32 q, k, v, found ${q.dtype}, ${k.dtype}, ${v.dtype}`;
  try {
    attentionShape(inputs, attrs);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  const bytes = 4 * (2 * q.data.length + k.data.length + v.data.length);
  if (bytes > MAX_OPERAND_BYTES) return `operands of ${bytes} bytes do not fit next to the weights in the 4 GiB wasm32 memory`;
  return true;
}

function runAttention(inputs: KernelInputs<'attention'>, attrs: KernelAttrs<'attention'>, ctx: CpuWasmContext): Tensor<'f32'> {
  const ok = validate(inputs, attrs);
  if (ok !== true) throw new SparqError('E_KERNEL_UNSUPPORTED', `cpu-wasm attention: ${ok}`);
  const [m, t] = attentionShape(inputs, attrs);
  const { numHeads, numKvHeads, headDim, qPos0, slidingWindow } = attrs;
  const qW = numHeads * headDim;
  const kW = numKvHeads * headDim;
  if (m === 0) return Tensor.zeros('f32', [0, qW]);
  const { memories, pool, kv } = requireRuntime(ctx);
  const slot = memories.primary;
  const heap = slot.heap;
  // Each (row, head) pair costs about 2·(keys seen)·headDim multiply-adds; below the threshold one thread does it all.
  const work = 2 * m * numHeads * Math.min(t, slidingWindow ?? t) * headDim;
  const nth = work < ctx.minParallelWork ? 1 : Math.min(pool.threads, m * numHeads);
  const qoBytes = align64(m * qW * 4);
  const stride = align64(headDim * 4) + align64((t + 3) * 4); // per thread: accumulator row, f32 scores (padded to 4)
  const qoPtr = heap.scratchPtr(0, 2 * qoBytes); // q, then out
  const descPtr = heap.scratchPtr(3, DESC_BYTES + stride * nth);
  // A resident copy of the cache when the caller vouches for its earlier rows; else this call's own copy.
  const resident = attrs.cacheId === undefined ? undefined : kv.sync(attrs.cacheId, attrs.cachedRows ?? 0, inputs.k.data, inputs.v.data, t, numKvHeads, headDim);
  const kPtr = resident?.kPtr ?? heap.scratchPtr(1, t * kW * 4);
  const vPtr = resident?.vPtr ?? heap.scratchPtr(2, t * kW * 4);
  // Views after every allocation: the memory may have grown.
  const f32 = heap.f32;
  f32.set(inputs.q.data.subarray(0, m * qW), qoPtr >>> 2);
  if (!resident) {
    f32.set(inputs.k.data.subarray(0, t * kW), kPtr >>> 2);
    f32.set(inputs.v.data.subarray(0, t * kW), vPtr >>> 2);
  }
  const outPtr = qoPtr + qoBytes;
  const d = new Uint32Array(heap.memory.buffer, descPtr, DESC_BYTES / 4);
  d.fill(0);
  d[A.Q] = qoPtr;
  d[A.K] = kPtr;
  d[A.V] = vPtr;
  d[A.OUT] = outPtr;
  d[A.M] = m;
  d[A.T] = t;
  d[A.HEADS] = numHeads;
  d[A.KV_HEADS] = numKvHeads;
  d[A.HD] = headDim;
  d[A.QPOS0] = qPos0;
  d[A.WINDOW] = slidingWindow ?? 0;
  d[A.SCRATCH] = descPtr + DESC_BYTES;
  d[A.SCRATCH_STRIDE] = stride;
  // Resident caches are head-major [kvHeads, capacity, headDim]; per-call copies row-major [t, kvHeads·headDim].
  d[A.KV_ROW_STRIDE] = resident ? headDim * 4 : kW * 4;
  d[A.KV_HEAD_STRIDE] = resident ? resident.capacity * headDim * 4 : headDim * 4;
  pool.run(JOB.ATTENTION, [descPtr], nth, slot.id);
  const start = outPtr >>> 2;
  return new Tensor('f32', [m, qW], f32.slice(start, start + m * qW));
}

/** The cpu-wasm `attention` model kernel (causal, grouped-query, optional sliding window). */
export const attention: KernelImpl<'attention', CpuWasmContext> = {
  name: 'attention',
  supports: (inputs, attrs) => validate(inputs, attrs),
  run: runAttention,
};
