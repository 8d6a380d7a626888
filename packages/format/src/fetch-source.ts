/**
 * Byte sources over HTTP(S) with the global `fetch` (browsers, workers,
 * Node ≥ 18). A file is downloaded whole on first open and then read from
 * memory: range requests would save little for the browser-sized models this
 * serves, and not every static server answers them.
 */
import { SparqError } from '@sparq/tensor';
import { bytesSource, type ByteSource, type ByteSourceSet } from './byte-source';

/** Options of {@link fetchSource} and {@link fetchSourceSet}. */
export interface FetchSourceOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Passed to every request (headers, credentials, an abort signal). */
  init?: RequestInit;
}

/**
 * Downloads `url` and returns it as a byte source named by the URL. A 404 is
 * `E_NOT_FOUND`; other HTTP errors and network failures are `E_NETWORK`.
 * @example
 * const src = await fetchSource('https://example.com/model.sparq/model.safetensors');
 */
export async function fetchSource(url: string, opts: FetchSourceOptions = {}): Promise<ByteSource> {
  const f = opts.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await f(url, opts.init);
  } catch (e) {
    throw new SparqError('E_NETWORK', `cannot fetch ${url}: ${(e as Error)?.message ?? String(e)}`, {
      details: { file: url },
      hint: 'check the URL, that the server is up, and that it allows cross-origin requests (CORS) from this page',
      cause: e,
    });
  }
  if (!res.ok) {
    throw new SparqError(res.status === 404 ? 'E_NOT_FOUND' : 'E_NETWORK', `cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`.trimEnd(), {
      details: { file: url, found: res.status },
    });
  }
  return bytesSource(url, new Uint8Array(await res.arrayBuffer()));
}

/** Resolves a URL against the page (in a browser) so relative folder URLs work; `E_ARG` when it is not a URL. */
function absoluteUrl(url: string): string {
  try {
    return new URL(url, (globalThis as { location?: { href: string } }).location?.href).href;
  } catch (e) {
    throw new SparqError('E_ARG', `"${url}" is not a valid URL`, { details: { found: url }, hint: 'give an absolute http(s) URL, or a path relative to this page', cause: e });
  }
}

/**
 * The files under a base URL (a container folder served over HTTP) as a
 * {@link ByteSourceSet}; each file is fetched once, on first open.
 * @example
 * const c = await openSparqContainerFrom(fetchSourceSet('https://example.com/stories260K.sparq/'));
 */
export function fetchSourceSet(baseUrl: string, opts: FetchSourceOptions = {}): ByteSourceSet {
  // new URL('x', 'https://h/a/b') resolves to https://h/a/x: a folder URL needs its trailing slash.
  const base = absoluteUrl(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const cache = new Map<string, Promise<ByteSource>>();
  return {
    location: base,
    open(name) {
      let p = cache.get(name);
      if (p === undefined) {
        p = fetchSource(new URL(encodeURIComponent(name), base).href, opts);
        // A failed fetch is not cached: a retry may succeed.
        p.catch(() => cache.delete(name));
        cache.set(name, p);
      }
      return p;
    },
  };
}
