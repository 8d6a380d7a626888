/// <reference types="@webgpu/types" />
/**
 * The backends the demo offers: WebGPU (the point of the demo) and the
 * reference CPU backend of `@sparq/tensor` (plain JS, float64 accumulation)
 * for browsers without WebGPU and for comparing outputs.
 */
import { createWebGpuBackend } from '@sparq/backend-webgpu';
import { createReferenceBackend, SparqError, type Backend } from '@sparq/tensor';

/** A backend choice of the page. */
export type BackendKind = 'webgpu' | 'reference';

/** An initialised backend and how to describe it on the page. */
export interface DemoBackend {
  kind: BackendKind;
  backend: Backend;
  /** e.g. `WebGPU — google swiftshader (software rasterizer: SwiftShader)` or `CPU reference (JS)`. */
  description: string;
}

/** Why this page has no WebGPU, or undefined when `navigator.gpu` exists. */
export function webGpuMissingReason(): string | undefined {
  if ((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined) return undefined;
  const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
  return secure === false
    ? 'WebGPU is not available: this page is not a secure context. Serve it over https:// or from http://localhost.'
    : 'WebGPU is not available in this browser (navigator.gpu is undefined). Use a recent Chrome/Edge (113+) or Safari 26+, or on Linux start Chromium with --enable-unsafe-webgpu.';
}

/** Creates and initialises a backend; WebGPU failures become `E_NO_BACKEND` with the reason. */
export async function createDemoBackend(kind: BackendKind): Promise<DemoBackend> {
  if (kind === 'reference') {
    const backend = createReferenceBackend();
    await backend.init();
    return { kind, backend, description: 'CPU reference (JS, float64 accumulation)' };
  }
  const missing = webGpuMissingReason();
  if (missing) throw new SparqError('E_NO_BACKEND', missing, { hint: 'or pick the CPU reference backend' });
  const backend = createWebGpuBackend();
  await backend.init();
  const adapter = backend.adapter || 'unknown adapter';
  const soft = /swiftshader/i.test(adapter) ? ' (software rasterizer: SwiftShader — no GPU in use, expect it to be slow)' : '';
  return { kind, backend, description: `WebGPU — ${adapter}${soft}` };
}
