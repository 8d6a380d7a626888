/**
 * Node side of the browser tests: bundles `page-entry.ts` with esbuild, opens
 * it in headless Chromium through `launchWebGpuPage` (@sparq/test-utils), and
 * offers a proxy `Backend` whose `run()` ships inputs to the page and brings
 * the output back — so the shared conformance suite checks the real WebGPU
 * kernels with the same cases and tolerances as every other backend.
 */
import { fileURLToPath } from 'node:url';
import {
  SparqError,
  type Backend,
  type ErrorCode,
  type KernelAttrs,
  type KernelInputs,
  type KernelName,
  type KernelOutput,
} from '@sparq/tensor';
import { launchWebGpuPage, type WebGpuPage } from '@sparq/test-utils';
import { build } from 'esbuild';
import type { WebGpuBackendOptions, WebGpuContext } from '../src/index';
import { webgpuKernels } from '../src/index';
import { WeightCache } from '../src/weight-cache';
import type { PageResult, SparqWebGpuPageApi } from './page-entry';
import { fromWire, toWire, type Wire } from './wire';

let bundle: Promise<string> | undefined;

/** The page bundle (built once per test process). */
export function pageBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [fileURLToPath(new URL('./page-entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    // Workspace packages resolve to their TypeScript sources, as in vitest.
    conditions: ['@sparq/source'],
    logLevel: 'error',
  }).then((r) => r.outputFiles[0]!.text);
  return bundle;
}

/** An open test page with the backend bundle loaded. */
export interface WebGpuTestPage extends WebGpuPage {
  /** Calls `sparqWebGpu[method](...args)` in the page. */
  call<M extends keyof SparqWebGpuPageApi>(method: M, ...args: Parameters<SparqWebGpuPageApi[M]>): Promise<Awaited<ReturnType<SparqWebGpuPageApi[M]>>>;
}

/** Launches Chromium, loads the bundle, and returns the page. */
export async function openWebGpuTestPage(): Promise<WebGpuTestPage> {
  const js = await pageBundle();
  const h = await launchWebGpuPage({ files: { '/backend.js': js, '/index.html': '<!doctype html><meta charset="utf-8"><script src="/backend.js"></script>' } });
  await h.page.waitForFunction(() => 'sparqWebGpu' in globalThis);
  const call = (async (method: string, ...args: unknown[]) =>
    h.page.evaluate(
      ([m, a]) => (globalThis as unknown as { sparqWebGpu: Record<string, (...x: unknown[]) => unknown> }).sparqWebGpu[m as string]!(...(a as unknown[])),
      [method, args] as const,
    )) as WebGpuTestPage['call'];
  return { ...h, call };
}

/** Turns a page result into the output, or rethrows the page's error as a SparqError. */
export function unwrap(r: PageResult): unknown {
  if (r.ok) return fromWire(r.out);
  throw new SparqError(r.code === 'JS_ERROR' ? 'E_INTERNAL' : (r.code as ErrorCode), `[page] ${r.message}`);
}

/** A supports()-only context: the WebGPU kernels' `supports` depend on inputs, never on the device. */
const supportsCtx: WebGpuContext = { options: {}, weights: new WeightCache(), runtime: undefined, acquired: undefined };

/**
 * A Backend that runs the WebGPU backend inside headless Chromium. `supports`
 * is the very table's `supports` (device-independent); `run` goes to the page.
 */
export function createPageProxyBackend(options: Omit<WebGpuBackendOptions, 'gpu' | 'device'> = {}): Backend & { page(): WebGpuTestPage } {
  let page: WebGpuTestPage | undefined;
  let ready: Promise<void> | undefined;
  const proxy = {
    name: 'webgpu (headless Chromium)',
    page: () => {
      if (!page) throw new Error('proxy backend not initialised');
      return page;
    },
    init() {
      ready ??= (async () => {
        page = await openWebGpuTestPage();
        const info = await page.call('init', options);
        console.log(`webgpu page backend: adapter ${info.adapter}, shader-f16 ${info.shaderF16}, binding limit ${info.maxBindingBytes} B`);
      })();
      return ready;
    },
    supports<K extends KernelName>(kernel: K, inputs: KernelInputs<K>, attrs: KernelAttrs<K>): true | string {
      const impl = webgpuKernels[kernel];
      if (!impl) return `kernel ${kernel} is not implemented by the webgpu backend`;
      return impl.supports ? impl.supports(inputs as never, attrs as never, supportsCtx) : true;
    },
    async run<K extends KernelName>(kernel: K, inputs: KernelInputs<K>, attrs: KernelAttrs<K>): Promise<KernelOutput<K>> {
      await proxy.init();
      return unwrap(await proxy.page().call('run', kernel, toWire(inputs), toWire(attrs) as Wire)) as KernelOutput<K>;
    },
    release() {
      // Inputs are rebuilt in the page per call, so nothing stays cached for them.
    },
    async dispose() {
      if (!page) return;
      await page.call('dispose').catch(() => undefined);
      await page.close();
      page = undefined;
    },
  };
  return proxy;
}
