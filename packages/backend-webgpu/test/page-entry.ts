/**
 * The page side of the browser tests: bundled with esbuild (with the backend
 * and @sparq/tensor) into an https test page, it exposes `sparqWebGpu` for
 * `page.evaluate` calls from Node.
 */
import { isSparqError, Tensor, type KernelName } from '@sparq/tensor';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from '../src/index';
import { fromWire, toWire, type Wire } from './wire';

/** A kernel result or the error it threw, as data. */
export type PageResult = { ok: true; out: Wire } | { ok: false; code: string; message: string };

let backend: WebGpuBackend | undefined;
const refs = new Map<string, unknown>();

function need(): WebGpuBackend {
  if (!backend) throw new Error('sparqWebGpu.init() was not called');
  return backend;
}

const api = {
  /** Creates and initialises the backend; returns what it runs on. */
  async init(options: Omit<WebGpuBackendOptions, 'gpu' | 'device'>) {
    await backend?.dispose();
    refs.clear();
    backend = createWebGpuBackend(options);
    await backend.init();
    return { adapter: backend.adapter, shaderF16: backend.shaderF16, maxBindingBytes: backend.maxBindingBytes };
  },
  /** Runs one kernel; errors come back as data (SparqError code and message). */
  async run(kernel: KernelName, inputs: Wire, attrs: Wire): Promise<PageResult> {
    try {
      const out = await need().run(kernel, fromWire(inputs, refs) as never, fromWire(attrs, refs) as never);
      return { ok: true, out: toWire(out) };
    } catch (e) {
      return { ok: false, code: isSparqError(e) ? e.code : 'JS_ERROR', message: (e as Error).message };
    }
  },
  /** Keeps a decoded object under `id` so later calls can pass `{ $ref: id }` (same object → cache hit). */
  put(id: string, value: Wire): void {
    refs.set(id, fromWire(value, refs));
  },
  /** `backend.release()` of a kept object. */
  release(id: string): void {
    need().release(refs.get(id) as never);
  },
  stats: () => need().weightStats(),
  /** `backend.profile()`: seconds per run. */
  profile: (kernel: KernelName, inputs: Wire, attrs: Wire, repeat: number) =>
    need().profile(kernel, fromWire(inputs, refs) as never, fromWire(attrs, refs) as never, repeat),
  /**
   * Creates a backend on a device of its own, destroys the device, and runs a
   * kernel: the error (code and message) the backend reports after a loss.
   */
  async afterDeviceLoss(): Promise<PageResult> {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { ok: false, code: 'NO_ADAPTER', message: 'requestAdapter() returned null' };
    const device = await adapter.requestDevice();
    const b = createWebGpuBackend({ device });
    await b.init();
    device.destroy();
    await device.lost;
    const t = new Tensor('f32', [1, 2], Float32Array.from([1, 2]));
    try {
      await b.run('siluMul', { gate: t, up: t }, {});
      return { ok: true, out: null };
    } catch (e) {
      return { ok: false, code: isSparqError(e) ? e.code : 'JS_ERROR', message: (e as Error).message };
    }
  },
  async dispose() {
    await backend?.dispose();
    backend = undefined;
    refs.clear();
  },
};

/** The page API's type (for the Node side). */
export type SparqWebGpuPageApi = typeof api;
(globalThis as unknown as { sparqWebGpu: SparqWebGpuPageApi }).sparqWebGpu = api;
