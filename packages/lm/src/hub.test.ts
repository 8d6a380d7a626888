import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPath } from '@sparq/test-utils';
import { isSparqError } from '@sparq/tensor';
import { isModelFile, resolveModelPath } from './hub';

/**
 * A stand-in for the Hub's HTTP API served from local folders through an
 * injected `fetch` (no network): the tree listing, paths-info and resolve
 * endpoints that @huggingface/hub calls. It records every request.
 */
function fakeHub(repos: Record<string, string>, commit = 'a'.repeat(40)) {
  const requests: string[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [join(dir, e)]));
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)/.exec(url.pathname);
    if (m) {
      const root = repos[m[1]!];
      if (!root) return new Response('{"error":"Repository not found"}', { status: 404 });
      const entries = walk(root).map((f) => ({ type: 'file', path: relative(root, f), oid: 'x', size: statSync(f).size }));
      return Response.json(entries);
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)\/paths-info\/([^/]+)/.exec(url.pathname);
    if (m) {
      const root = repos[m[1]!]!;
      const { paths } = JSON.parse(String(init?.body)) as { paths: string[] };
      return Response.json(
        paths.map((p) => {
          const bytes = readFileSync(join(root, p));
          return { type: 'file', path: p, size: bytes.length, oid: createHash('sha1').update(bytes).digest('hex'), lastCommit: { id: commit } };
        }),
      );
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      // Range requests are answered as a CDN would (206 + Content-Range), which is how the client learns the size.
      const bytes = readFileSync(join(repos[m[1]!]!, decodeURIComponent(m[3]!)));
      const etag = `"${createHash('sha1').update(bytes).digest('hex')}"`;
      const range = /bytes=(\d+)-(\d*)/.exec(new Headers(init?.headers).get('range') ?? '');
      if (range) {
        const a = Number(range[1]);
        const b = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
        return new Response(bytes.subarray(a, b + 1), {
          status: 206,
          headers: { 'content-range': `bytes ${a}-${b}/${bytes.length}`, etag },
        });
      }
      return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length), etag } });
    }
    return new Response('not found', { status: 404 });
  };
  return { fetchImpl, requests };
}

const tmp = mkdtempSync(join(tmpdir(), 'sparq-hub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('resolveModelPath', () => {
  it('returns existing paths unchanged and finds known names in the models folder', async () => {
    const bin = sharedPath('models', 'stories260K', 'stories260K.bin');
    expect(await resolveModelPath(bin)).toEqual({ path: bin, via: 'path' });
    const r = await resolveModelPath('stories260K', { modelsDir: sharedPath('models') });
    expect(r).toEqual({ path: bin, via: 'models-dir' });
  });

  it('downloads a known model from the Hub into the HF cache layout, then works offline', async () => {
    // karpathy/tinyllamas keeps the checkpoint under stories260K/ — serve the shared copy as that repo.
    const hub = fakeHub({ 'karpathy/tinyllamas': join(sharedPath('models', 'stories260K'), '..') });
    const cacheDir = join(tmp, 'cache1');
    const r = await resolveModelPath('stories260K', { modelsDir: join(tmp, 'none'), cacheDir, fetch: hub.fetchImpl, offline: false });
    expect(r.via).toBe('hub');
    expect(r.path).toBe(join(cacheDir, 'models--karpathy--tinyllamas', 'snapshots', 'a'.repeat(40), 'stories260K', 'stories260K.bin'));
    expect(readFileSync(r.path).equals(readFileSync(sharedPath('models', 'stories260K', 'stories260K.bin')))).toBe(true);
    expect(readFileSync(join(r.path, '..', 'tok512.bin')).length).toBe(6227);
    expect(hub.requests.some((q) => q.startsWith('GET /karpathy/tinyllamas/resolve/main/stories260K/stories260K.bin'))).toBe(true);
    // Offline: served from the cache, no request made.
    const n = hub.requests.length;
    const again = await resolveModelPath('stories260K', { modelsDir: join(tmp, 'none'), cacheDir, fetch: hub.fetchImpl, offline: true });
    expect(again).toEqual({ path: r.path, via: 'hub-cache', repo: 'karpathy/tinyllamas' });
    expect(hub.requests.length).toBe(n);
  });

  it('downloads only model files of an HF repository id', async () => {
    const hub = fakeHub({ 'tiny/llama': sharedPath('reference', 'tiny', 'llama-gqa') });
    const cacheDir = join(tmp, 'cache2');
    const r = await resolveModelPath('tiny/llama', { modelsDir: join(tmp, 'none'), cacheDir, fetch: hub.fetchImpl, offline: false });
    expect(r.via).toBe('hub');
    expect(readdirSync(r.path).sort()).toEqual(['config.json', 'model.safetensors']); // reference.json is not a model file
  });

  it('fails clearly offline when the model is not cached, and for unknown names', async () => {
    const err = await resolveModelPath('someone/missing', { modelsDir: join(tmp, 'none'), cacheDir: join(tmp, 'c3'), offline: true }).catch((e: unknown) => e);
    expect(isSparqError(err) && err.code).toBe('E_NETWORK');
    expect(String((err as Error).message)).toMatch(/not in the cache .* offline mode is on/);
    const bad = await resolveModelPath('no such thing', { modelsDir: join(tmp, 'none') }).catch((e: unknown) => e);
    expect(isSparqError(bad) && bad.code).toBe('E_NOT_FOUND');
    const hub = fakeHub({});
    const gone = await resolveModelPath('ghost/repo', { modelsDir: join(tmp, 'none'), cacheDir: join(tmp, 'c4'), fetch: hub.fetchImpl, offline: false }).catch((e: unknown) => e);
    expect(isSparqError(gone) && gone.code).toBe('E_NETWORK');
  });

  it('selects loader files only', () => {
    expect(['config.json', 'model-00001-of-00002.safetensors', 'tokenizer.json', 'README.md', 'pytorch_model.bin'].filter(isModelFile)).toEqual([
      'config.json',
      'model-00001-of-00002.safetensors',
      'tokenizer.json',
    ]);
  });
});
