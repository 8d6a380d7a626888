/**
 * A headless-Chromium harness for WebGPU tests: launches Debian's Chromium
 * (SwiftShader's WebGPU adapter where there is no GPU) and serves in-memory
 * files from an https origin, because `navigator.gpu` exists only in secure
 * contexts (it is undefined on about:blank and file:// pages).
 *
 * @example
 * const { page, close } = await launchWebGpuPage({ files: { '/app.js': bundle } });
 * try {
 *   await page.addScriptTag({ url: '/app.js', type: 'module' });
 *   const info = await webGpuAdapterInfo(page);
 * } finally {
 *   await close();
 * }
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
// Types only at load time: playwright-core is imported on first launch, so the
// many tests that import @sparq/test-utils for fixtures do not pay for it.
import type { BrowserContext, Page } from 'playwright-core';

/** The origin every page is served from (routed in memory; nothing goes on the network). */
export const TEST_ORIGIN = 'https://sparq.test';

/** The blank page served at `/` and `/index.html` unless `files` provides one. */
export const BLANK_PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>sparq test</title></head><body></body></html>';

/** A file's content, or `undefined` for 404. */
export type ServedFile = Uint8Array | string | undefined;

/** The files to serve: a map from absolute path (`/app.js`) to content, or a function of the path. */
export type ServedFiles = Readonly<Record<string, Uint8Array | string>> | ((path: string) => ServedFile | Promise<ServedFile>);

/** Options of {@link launchWebGpuPage}. */
export interface WebGpuPageOptions {
  /** What `https://sparq.test/<path>` serves; `/` and `/index.html` default to {@link BLANK_PAGE}. */
  files?: ServedFiles;
  /** Path the page first navigates to (default `/index.html`). */
  entry?: string;
  /** Extra Chromium flags, appended to the defaults (e.g. `--use-webgpu-adapter=swiftshader`). */
  args?: readonly string[];
  /** Receives the page's console lines and uncaught errors (default: errors to `console.error`). */
  onConsole?: (line: string) => void;
}

/** An open page and how to close it. */
export interface WebGpuPage {
  page: Page;
  /** The browser context (a persistent one over a fresh profile folder). */
  context: BrowserContext;
  /** `https://sparq.test`. */
  origin: string;
  /** Uncaught page errors seen so far (a test can assert it is empty). */
  errors: string[];
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>;
}

/**
 * The Chromium binary: `$SPARQ_CHROMIUM`, default `/usr/bin/chromium`. Throws
 * with what to do when it is missing — a loud failure, never a skip.
 */
export function chromiumPath(): string {
  const path = process.env.SPARQ_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `test-utils: Chromium not found at ${path}. Install it (Debian/Ubuntu: apt-get install -y chromium) ` +
        'or set SPARQ_CHROMIUM to a Chromium/Chrome binary.',
    );
  }
  return path;
}

/**
 * Flags of every launch: WebGPU on (`--enable-unsafe-webgpu`; on Linux it is
 * behind this flag), no sandbox (tests run as root in CI containers), and no
 * background traffic (the machine may have no network).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

async function lookup(files: ServedFiles | undefined, path: string): Promise<ServedFile> {
  const found = typeof files === 'function' ? await files(path) : files?.[path];
  if (found !== undefined) return found;
  return path === '/' || path === '/index.html' ? BLANK_PAGE : undefined;
}

/**
 * Launches headless Chromium with WebGPU enabled and opens `entry` on
 * {@link TEST_ORIGIN}, whose requests are answered from `files` (404 for
 * anything else; no request leaves the machine). Call `close()` when done.
 */
export async function launchWebGpuPage(opts: WebGpuPageOptions = {}): Promise<WebGpuPage> {
  const executablePath = chromiumPath();
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'sparq-chromium-'));
  let context: BrowserContext;
  try {
    // A fresh profile (--user-data-dir) per launch: parallel runs never share one.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`test-utils: could not launch Chromium at ${executablePath}: ${(e as Error).message}`);
  }
  const close = async (): Promise<void> => {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    const report = opts.onConsole ?? ((line: string) => line.startsWith('[error]') && console.error(line));
    page.on('console', (m) => report(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => {
      errors.push(e.message);
      report(`[error] uncaught: ${e.message}`);
    });
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== TEST_ORIGIN) return route.abort('blockedbyclient');
      const body = await lookup(opts.files, url.pathname);
      if (body === undefined) return route.fulfill({ status: 404, contentType: 'text/plain', body: `not found: ${url.pathname}` });
      return route.fulfill({
        status: 200,
        contentType: MIME[extname(url.pathname)] ?? 'application/octet-stream',
        body: typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      });
    });
    await page.goto(TEST_ORIGIN + (opts.entry ?? '/index.html'));
    return { page, context, origin: TEST_ORIGIN, errors, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** What the page's WebGPU adapter is, or why there is none. */
export type WebGpuAdapterInfo =
  | { ok: true; vendor: string; architecture: string; features: string[]; maxStorageBufferBindingSize: number }
  | { ok: false; reason: string };

/** Asks the page for a WebGPU adapter and describes it (SwiftShader reports vendor `google`, architecture `swiftshader`). */
export async function webGpuAdapterInfo(page: Page): Promise<WebGpuAdapterInfo> {
  return page.evaluate(async (): Promise<WebGpuAdapterInfo> => {
    // Typed loosely: this runs in the page, and test-utils does not load @webgpu/types.
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) return { ok: false, reason: 'navigator.gpu is undefined (not a secure context, or WebGPU disabled)' };
    const adapter = (await gpu.requestAdapter()) as {
      info?: { vendor: string; architecture: string };
      features: Iterable<string>;
      limits: { maxStorageBufferBindingSize: number };
    } | null;
    if (!adapter) return { ok: false, reason: 'requestAdapter() returned null' };
    return {
      ok: true,
      vendor: adapter.info?.vendor ?? '',
      architecture: adapter.info?.architecture ?? '',
      features: [...adapter.features],
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    };
  });
}
