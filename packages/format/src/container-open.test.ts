// The container reader over byte sources (in memory, Blob, fetch): the same container written to disk must read back
// identically to its packed inputs however its files arrive, and failures must name the file.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor, createRng, isSparqError } from '@sparq/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobSource, bytesSource, byteSourceSet, type ByteSourceSet } from './byte-source';
import { openSparqContainerFrom } from './container-open';
import { createContainerWriter } from './container-write';
import { fetchSourceSet } from './fetch-source';
import { compressNM, decompressNM } from './nm';
import { decodeQuantized, encodeQuantized } from './quant-codec';
import { makeTempDir } from './safetensors-test-helpers';

let dir: string;
let cleanup: () => Promise<void>;
let files: Map<string, Uint8Array>;
const rng = createRng(11);
const q = encodeQuantized({
  rows: 6, cols: 16, bits: 4, groupSize: 8, sym: false,
  codes: new Uint8Array(96).map(() => rng.int(16)),
  scales: new Float32Array(12).map(() => 0.01 + rng.float() * 0.1),
  zeros: new Uint8Array(12).map(() => rng.int(16)),
});
const w = new Float32Array(4 * 8);
for (let g = 0; g < 8; g++) { w[g * 4 + rng.int(2)] = 1 + g; w[g * 4 + 2 + rng.int(2)] = -g; }
const nm = compressNM(w, 4, 8, 2, 4);
const norm = Tensor.f32([16], Array.from({ length: 16 }, (_, i) => i / 3));

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir('sparq-open-'));
  const out = join(dir, 'c');
  const wr = await createContainerWriter(out, { architecture: { model_type: 'llama' }, recipe: null, toolVersion: '0.0.0-test' });
  await wr.addTensor('model.norm.weight', norm);
  await wr.addPacked('layers.0.q.weight', q, { method: 'test' });
  await wr.addPacked('layers.0.nm.weight', nm, { method: 'test' });
  await wr.finish();
  files = new Map();
  for (const f of await readdir(out)) files.set(f, new Uint8Array(await readFile(join(out, f))));
});
afterAll(() => cleanup());

async function err(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try { await p; } catch (e) { if (isSparqError(e)) return { code: e.code, message: e.message }; throw e; }
  throw new Error('expected a rejection');
}

const memory = (edit?: (m: Map<string, Uint8Array>) => void): ByteSourceSet => {
  const m = new Map(files);
  edit?.(m);
  return byteSourceSet('picked', [...m].map(([n, b]) => bytesSource(n, b)));
};

async function checkContents(set: ByteSourceSet): Promise<void> {
  const c = await openSparqContainerFrom(set);
  expect(c.names()).toEqual(['model.norm.weight', 'layers.0.q.weight', 'layers.0.nm.weight']);
  await c.verify();
  expect(Array.from((await c.readF32('model.norm.weight', { verify: true })).data)).toEqual(Array.from(norm.data));
  expect(Array.from((await c.readF32('layers.0.q.weight')).data)).toEqual(Array.from(decodeQuantized(q)));
  expect(Array.from((await c.readF32('layers.0.nm.weight')).data)).toEqual(Array.from(decompressNM(nm)));
  const p = await c.readPacked('layers.0.q.weight');
  expect(p.kind).toBe('quant');
  expect(c.accounting().totalBits).toBeGreaterThan(0);
  await c.close();
}

describe('openSparqContainerFrom', () => {
  it('reads a container from bytes in memory, Blobs and fetch, equal to the encoded inputs', async () => {
    await checkContents(memory());
    await checkContents(byteSourceSet('blobs', [...files].map(([n, b]) => blobSource(new Blob([b as Uint8Array<ArrayBuffer>]), n))));
    const asked: string[] = [];
    const fakeFetch = (async (url: string) => {
      asked.push(url);
      const name = decodeURIComponent(url.slice('https://models.test/c/'.length));
      const b = files.get(name);
      return b ? new Response(b as Uint8Array<ArrayBuffer>) : new Response('missing', { status: 404, statusText: 'Not Found' });
    }) as typeof fetch;
    await checkContents(fetchSourceSet('https://models.test/c', { fetch: fakeFetch }));
    // Only what the reader needs is downloaded (no config.json), each file once.
    expect(asked.sort()).toEqual(['https://models.test/c/model.safetensors', 'https://models.test/c/sparq.json']);
  });

  it('blob reads slice only the requested bytes', async () => {
    const shard = files.get('model.safetensors')!;
    let sliced = 0;
    class CountingBlob extends Blob {
      override slice(start?: number, end?: number): Blob {
        sliced += (end ?? this.size) - (start ?? 0);
        return super.slice(start, end);
      }
    }
    const set = byteSourceSet('blobs', [...files].map(([n, b]) => blobSource(n === 'model.safetensors' ? new CountingBlob([b as Uint8Array<ArrayBuffer>]) : new Blob([b as Uint8Array<ArrayBuffer>]), n)));
    const c = await openSparqContainerFrom(set);
    const afterOpen = sliced;
    expect(afterOpen).toBeLessThan(shard.byteLength); // header only
    await c.readF32('model.norm.weight');
    expect(sliced - afterOpen).toBe(16 * 4);
    await c.close();
  });

  it('names what is missing, truncated or corrupt', async () => {
    const noManifest = await err(openSparqContainerFrom(memory((m) => m.delete('sparq.json'))));
    expect(noManifest).toMatchObject({ code: 'E_NOT_FOUND' });
    expect(noManifest.message).toContain('picked is not a sparq container (no sparq.json)');
    const noShard = await err(openSparqContainerFrom(memory((m) => m.delete('model.safetensors'))));
    expect(noShard.code).toBe('E_NOT_FOUND');
    expect(noShard.message).toContain('no file "model.safetensors"');
    const cut = await err(openSparqContainerFrom(memory((m) => m.set('model.safetensors', files.get('model.safetensors')!.slice(0, -5)))));
    expect(cut.code).toBe('E_SAFETENSORS');
    const flipped = files.get('model.safetensors')!.slice();
    flipped[flipped.length - 1]! ^= 0xff;
    const c = await openSparqContainerFrom(memory((m) => m.set('model.safetensors', flipped)));
    expect((await err(c.verify())).code).toBe('E_CHECKSUM');
    await c.close();
    const down = (async () => new Response('', { status: 503, statusText: 'Service Unavailable' })) as typeof fetch;
    const e503 = await err(openSparqContainerFrom(fetchSourceSet('https://models.test/x/', { fetch: down })));
    expect(e503.code).toBe('E_NETWORK');
    expect(e503.message).toContain('HTTP 503');
  });
});
