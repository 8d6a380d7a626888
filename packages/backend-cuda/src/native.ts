/**
 * Loading the native addon (native/build/sparq_cuda.node) and its typed
 * surface. Loading never throws: a missing build, a load error or the absence
 * of a usable GPU all become a reason string.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A device address (from `alloc`). */
export type DevicePtr = bigint;

/** One CUDA device as `init()` reports it. */
export interface CudaDeviceInfo {
  readonly name: string;
  /** Compute capability × 10, e.g. 90 for H100/H200. */
  readonly sm: number;
  /** Global memory in bytes. */
  readonly memory: number;
  readonly multiProcessors: number;
}

/** What the addon's `init()` returns. */
export interface CudaInitStatus {
  readonly available: boolean;
  /** Empty when available; otherwise the CUDA error, e.g. `cudaErrorNoDevice: no CUDA-capable device is detected`. */
  readonly reason: string;
  /** CUDA runtime version linked in (e.g. 13000). */
  readonly runtimeVersion: number;
  /** Driver's CUDA version, 0 when no driver is installed. */
  readonly driverVersion: number;
  readonly devices: readonly CudaDeviceInfo[];
  /** `'loaded'` or why the optional cuBLAS baseline is not available. */
  readonly cublas: string;
}

/** Launch arguments: sizes as numbers, device buffers as {@link DevicePtr}. */
export type LaunchArgs = Record<string, number | bigint | boolean | null | undefined>;

/** The addon's exports (native/addon.cc). */
export interface CudaAddon {
  init(): CudaInitStatus;
  alloc(bytes: number): DevicePtr;
  free(ptr: DevicePtr): void;
  memset(ptr: DevicePtr, bytes: number): void;
  upload(ptr: DevicePtr, data: ArrayBufferView): void;
  download(ptr: DevicePtr, data: ArrayBufferView): void;
  launch(kernel: string, args: LaunchArgs): void;
  sync(): void;
  /** Runs `kernel` warmup + iters times from C++; per-launch ms from CUDA events. */
  bench(kernel: string, args: LaunchArgs, warmup: number, iters: number): Float64Array;
  /**
   * Evaluates one of the kernels' index functions (native/kernels/layout.cuh)
   * on the host for each group of arguments in `args`; for tests.
   */
  layout(fn: 'fragment_offset' | 'fragment_word' | 'int4_pair_bits' | 'meta_word' | 'b_offset' | 'c_position', args: Float64Array): Float64Array;
  /** Kernel names `launch` accepts. */
  readonly kernels: readonly string[];
}

/** The addon, or why it cannot be loaded. */
export type AddonLoad = { ok: true; addon: CudaAddon; path: string } | { ok: false; reason: string; path: string };

/**
 * Where the addon is loaded from: `SPARQ_CUDA_ADDON` if set, else
 * `native/build/sparq_cuda.node` of this package (seen from `src/` or `dist/`),
 * or `../sparq_cuda.node` when this code runs from the GPU bundle in
 * `native/build/gpu-bundle/`.
 */
export function addonPath(): string {
  if (process.env.SPARQ_CUDA_ADDON) return process.env.SPARQ_CUDA_ADDON;
  const candidates = ['../native/build/sparq_cuda.node', '../sparq_cuda.node'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

let cached: AddonLoad | undefined;

/**
 * Loads the addon once. Returns `{ ok: false, reason }` when it was not built
 * (no nvcc at install time) or fails to load; never throws.
 */
export function loadCudaAddon(): AddonLoad {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    cached = { ok: false, path, reason: `the native addon was not built (${path} is missing: nvcc was not found when the package was built; see packages/backend-cuda/README.md)` };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as CudaAddon;
    cached = { ok: true, addon, path };
  } catch (e) {
    cached = { ok: false, path, reason: `the native addon ${path} failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
  return cached;
}

let status: CudaInitStatus | undefined;

/**
 * The CUDA status of this machine: loads the addon and asks the CUDA runtime
 * for devices (once). `available: false` carries the reason (no addon, or the
 * CUDA error such as `cudaErrorNoDevice` / `cudaErrorInsufficientDriver`).
 */
export function cudaStatus(): CudaInitStatus & { addon: string } {
  const load = loadCudaAddon();
  if (!load.ok) return { available: false, reason: load.reason, runtimeVersion: 0, driverVersion: 0, devices: [], cublas: 'not loaded: no addon', addon: load.path };
  status ??= load.addon.init();
  return { ...status, addon: load.path };
}
