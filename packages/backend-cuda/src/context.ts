/**
 * The private context of the CUDA backend: the addon once `init()` succeeded,
 * the device copies of weights (cached by object identity, freed by
 * `release()` / `dispose()`), and small helpers for per-call buffers.
 */
import { SparqError, type PackedMatrix, type Tensor } from '@sparq/tensor';
import { cudaStatus, loadCudaAddon, type CudaAddon, type CudaInitStatus, type DevicePtr } from './native';

/** Options of `createCudaBackend`. */
export interface CudaBackendOptions {
  /**
   * Run `matmulDense` (f32 weights) and 2:4 `matmulNM` on f16 tensor cores
   * (weights and activations rounded to f16, f32 accumulation). Faster, but
   * outside the contract's f32 accuracy for those two kernels (the conformance
   * suite runs with the default, `false`: exact f32 CUDA-core kernels).
   * The quantized kernels always use tensor cores — their contract allows it.
   */
  tensorCores?: boolean;
}

/** One weight's device buffers and the launch arguments that describe them. */
export interface DeviceWeight {
  /** Which native kernel consumes it. */
  readonly kernel: string;
  /** Fixed launch arguments (buffers and padded sizes). */
  readonly args: Record<string, number | bigint>;
  readonly buffers: DevicePtr[];
}

/** The backend's context. */
export interface CudaContext {
  readonly tensorCores: boolean;
  addon: CudaAddon | undefined;
  status: CudaInitStatus | undefined;
  /** Device copies keyed by weight object, then by a variant key (layout). */
  weights: WeakMap<object, Map<string, DeviceWeight>>;
  /** Every live device weight, for dispose(). */
  live: Set<DeviceWeight>;
}

/** An empty context. */
export function createCudaContext(opts: CudaBackendOptions = {}): CudaContext {
  return { tensorCores: opts.tensorCores ?? false, addon: undefined, status: undefined, weights: new WeakMap(), live: new Set() };
}

/** Why the backend cannot run here, or `undefined` when it can. */
export function unavailableReason(): string | undefined {
  const s = cudaStatus();
  return s.available ? undefined : s.reason;
}

/** init(): rejects with `E_NO_BACKEND` and the CUDA reason when no device can be used. */
export async function initCudaContext(ctx: CudaContext): Promise<void> {
  if (ctx.addon) return;
  const s = cudaStatus();
  if (!s.available) {
    throw new SparqError('E_NO_BACKEND', `CUDA backend unavailable: ${s.reason}`, {
      hint: 'build packages/backend-cuda on a machine with nvcc (CUDA ≥ 12) and run on an NVIDIA GPU with compute capability ≥ 8.0',
    });
  }
  const load = loadCudaAddon();
  if (!load.ok) throw new SparqError('E_NO_BACKEND', `CUDA backend unavailable: ${load.reason}`);
  ctx.addon = load.addon;
  ctx.status = s;
}

/** The addon, or `E_INTERNAL` when a kernel runs before init(). */
export function requireAddon(ctx: CudaContext): CudaAddon {
  if (!ctx.addon) throw new SparqError('E_INTERNAL', 'cuda: kernel ran before init()');
  return ctx.addon;
}

/** Allocates and fills a device buffer. */
export function uploadNew(addon: CudaAddon, data: ArrayBufferView): DevicePtr {
  const p = addon.alloc(data.byteLength);
  try {
    addon.upload(p, data);
  } catch (e) {
    addon.free(p);
    throw e;
  }
  return p;
}

/** The cached device copy of `w` under `key`, created by `make` on first use. */
export function deviceWeight(ctx: CudaContext, w: Tensor | PackedMatrix, key: string, make: () => DeviceWeight): DeviceWeight {
  let byKey = ctx.weights.get(w);
  if (!byKey) ctx.weights.set(w, (byKey = new Map()));
  let dw = byKey.get(key);
  if (!dw) {
    dw = make();
    byKey.set(key, dw);
    ctx.live.add(dw);
  }
  return dw;
}

function freeWeight(ctx: CudaContext, dw: DeviceWeight): void {
  ctx.live.delete(dw);
  for (const p of dw.buffers) ctx.addon?.free(p);
}

/** release(): frees every device copy of `w`. */
export function releaseWeight(ctx: CudaContext, w: Tensor | PackedMatrix): void {
  const byKey = ctx.weights.get(w);
  if (!byKey) return;
  for (const dw of byKey.values()) freeWeight(ctx, dw);
  ctx.weights.delete(w);
}

/** dispose(): frees all device memory the backend holds. */
export async function disposeCudaContext(ctx: CudaContext): Promise<void> {
  for (const dw of [...ctx.live]) freeWeight(ctx, dw);
  ctx.weights = new WeakMap();
  ctx.addon = undefined;
}

/** Runs `fn` with fresh device buffers of the given byte sizes, freeing them afterwards. */
export function withBuffers<T>(addon: CudaAddon, sizes: number[], fn: (ptrs: DevicePtr[]) => T): T {
  const ptrs: DevicePtr[] = [];
  try {
    for (const s of sizes) ptrs.push(addon.alloc(Math.max(s, 4)));
    return fn(ptrs);
  } finally {
    for (const p of ptrs) addon.free(p);
  }
}
