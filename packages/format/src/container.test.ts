import { readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor, createRng, f32ToF16, isSparqError, type PackedBits } from '@sparq/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBitmask } from './bitmask';
import { openSparqContainer, isSparqContainer } from './container-read';
import { createContainerWriter } from './container-write';
import { compressNM, decompressNM } from './nm';
import { decodeNMQuant, encodeNMQuant } from './nm-quant';
import { decodeQuantized, encodeQuantized } from './quant-codec';
import { openSafetensors } from './safetensors-read';
import { makeTempDir } from './safetensors-test-helpers';
import { writeSafetensors } from './safetensors-write';
import { decodeSpqr, encodeOutliers, encodeSpqr, quantizeBilevelStat } from './spqr';
import { sameF32 } from './test-reference';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await makeTempDir('sparq-container-')));
afterAll(() => cleanup());

const rng = createRng(3);

function quant(rows: number, cols: number, bits: PackedBits, gs: number, sym: boolean) {
  const G = cols / gs;
  return encodeQuantized({
    rows, cols, bits, groupSize: gs, sym,
    codes: new Uint8Array(rows * cols).map(() => rng.int(1 << bits)),
    scales: new Float32Array(rows * G).map(() => rng.float() * 0.1 + 0.01),
    ...(sym ? {} : { zeros: new Uint8Array(rows * G).map(() => rng.int(1 << bits)) }),
  });
}

function nm24(rows: number, cols: number) {
  const w = new Float32Array(rows * cols);
  for (let g = 0; g < w.length / 4; g++) { w[g * 4 + rng.int(2)] = Math.fround(rng.normal()); w[g * 4 + 2 + rng.int(2)] = Math.fround(rng.normal()); }
  // f16-representable values so they can be stored as f16
  for (let i = 0; i < w.length; i++) w[i] = new Tensor('f16', [1], Uint16Array.of(f32ToF16(w[i]!))).toF32().data[0]!;
  return compressNM(w, rows, cols, 2, 4);
}

function nmq(rows: number, cols: number) {
  const mask = new Uint8Array(rows * cols);
  for (let g = 0; g < mask.length / 8; g++) { mask[g * 8 + rng.int(4)] = 1; mask[g * 8 + 4 + rng.int(4)] = 1; }
  return encodeNMQuant({ rows, cols, n: 2, m: 8, bits: 3, groupSize: 16, sym: false, mask, codes: new Uint8Array(rows * cols).map(() => rng.int(8)), scales: new Float32Array(rows * (cols / 16)).fill(0.05), zeros: new Uint8Array(rows * (cols / 16)).fill(3) });
}

function spqr(rows: number, cols: number) {
  const G = cols / 16;
  const mask = new Uint8Array(rows * cols).map(() => (rng.float() < 0.02 ? 1 : 0));
  return encodeSpqr({
    rows, cols, bits: 3, groupSize: 16, codes: new Uint8Array(rows * cols).map(() => rng.int(8)),
    scales: quantizeBilevelStat(new Float32Array(rows * G).map(() => 0.02 + rng.float() * 0.01), rows, G, 3, 16),
    zeros: quantizeBilevelStat(new Float32Array(rows * G).map(() => rng.float() * 7), rows, G, 3, 16),
    outliers: encodeOutliers(rows, cols, mask, new Float32Array(rows * cols).map(() => rng.normal())),
  });
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try { await p; } catch (e) { return isSparqError(e) ? e.code : String(e); }
  return undefined;
}

/** Rewrites one shard with a metadata edit (the tensors are copied unchanged). */
async function editShardMetadata(path: string, edit: (m: Record<string, string>) => void): Promise<void> {
  const f = await openSafetensors(path);
  const tensors: [string, Tensor][] = [];
  for (const n of f.names()) tensors.push([n, await f.read(n)]);
  const meta = { ...f.metadata };
  await f.close();
  edit(meta);
  await writeSafetensors(path, tensors, meta);
}

async function writeSample(out: string, maxShardBytes?: number) {
  const w = await createContainerWriter(out, { architecture: { model_type: 'llama', hidden_size: 32 }, recipe: { steps: ['test'] }, toolVersion: '0.0.0-test', ...(maxShardBytes ? { maxShardBytes } : {}) });
  const items = {
    q: quant(9, 32, 4, 8, false), k: quant(5, 24, 3, 24, true), v: quant(3, 16, 2, 4, false), o: quant(2, 8, 8, 8, true),
    nm: nm24(7, 32), nmq: nmq(6, 32), spqr: spqr(17, 48), bm: encodeBitmask(new Float32Array(5 * 11).map(() => (rng.float() < 0.3 ? 1.5 : 0)), 5, 11),
  };
  const norm = Tensor.f32([32], Array.from({ length: 32 }, (_, i) => i / 7));
  const emb = new Tensor('f16', [4, 8], new Uint16Array(32).map((_, i) => 0x3c00 + i));
  await w.addTensor('model.norm.weight', norm);
  for (const [k, v] of Object.entries(items)) await w.addPacked(`layers.0.${k}.weight`, v, { method: 'test', ...(k === 'nm' ? { valueDtype: 'f16' as const } : {}) });
  await w.addTensor('model.embed_tokens.weight', emb);
  const res = await w.finish();
  return { items, norm, emb, res };
}

describe('sparq container', () => {
  it('round-trips every encoding and plain tensors, with manifest and accounting', async () => {
    const out = join(dir, 'rt');
    const { items, norm, emb, res } = await writeSample(out);
    expect(res.shards).toEqual(['model.safetensors']);
    expect(await isSparqContainer(out)).toBe(true);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8'))).toEqual({ model_type: 'llama', hidden_size: 32 });
    const c = await openSparqContainer(out);
    expect(c.names()[0]).toBe('model.norm.weight');
    expect(c.manifest.recipe).toEqual({ steps: ['test'] });
    expect(c.manifest.tool.version).toBe('0.0.0-test');
    await c.verify();
    const dec = {
      q: decodeQuantized(items.q), k: decodeQuantized(items.k), v: decodeQuantized(items.v), o: decodeQuantized(items.o),
      nm: decompressNM(items.nm), nmq: decodeNMQuant(items.nmq), spqr: decodeSpqr(items.spqr), bm: null,
    };
    for (const [k, v] of Object.entries(items)) {
      const name = `layers.0.${k}.weight`;
      const packed = await c.readPacked(name, { verify: true });
      expect(packed.kind).toBe(v.kind);
      expect(JSON.stringify({ ...packed })).toBe(JSON.stringify({ ...v }));
      const f = await c.readF32(name);
      expect(f.shape).toEqual([v.rows, v.cols]);
      const want = dec[k as keyof typeof dec];
      if (want) expect(sameF32(f.data, want)).toBe(true);
    }
    expect(c.entry('layers.0.nm.weight').components.find((x) => x.key === 'values')!.dtype).toBe('f16');
    expect(Array.from((await c.readTensor('model.norm.weight')).data as Float32Array)).toEqual(Array.from(norm.data));
    const e2 = await c.readTensor('model.embed_tokens.weight');
    expect(e2.dtype).toBe('f16');
    expect(Array.from(e2.data as Uint16Array)).toEqual(Array.from(emb.data));
    const acc = c.accounting();
    expect(acc.weights.find((w) => w.name === 'layers.0.q.weight')!.bitsPerWeight).toBe(4 + 16 / 8 + 4 / 8);
    expect(acc.weights.find((w) => w.name === 'model.norm.weight')!.bitsPerWeight).toBe(32);
    expect(await code(c.readF32('nope'))).toBe('E_NOT_FOUND');
    expect(await code(c.readPacked('model.norm.weight'))).toBe('E_ARG');
    await c.close();
  });

  it('rolls shards at the size limit and writes an HF index', async () => {
    const out = join(dir, 'sharded');
    const { res } = await writeSample(out, 400);
    expect(res.shards.length).toBeGreaterThan(2);
    expect(res.shards[0]).toMatch(/^model-00001-of-000\d\d\.safetensors$/);
    const idx = JSON.parse(await readFile(join(out, 'model.safetensors.index.json'), 'utf8'));
    expect(idx.weight_map['layers.0.spqr.weight.codes']).toBe(res.manifest.weights['layers.0.spqr.weight']!.shard);
    const c = await openSparqContainer(out);
    await c.verify();
    expect(c.names().length).toBe(10);
    await c.close();
  });

  it('stores u32 outlier columns (K > 65536) under I32 and bf16 N:M values', async () => {
    const out = join(dir, 'wide');
    const cols = 65552;
    const G = cols / 16;
    const mask = new Uint8Array(cols);
    mask[3] = mask[65535] = mask[65540] = 1;
    const wide = encodeSpqr({
      rows: 1, cols, bits: 3, groupSize: 16, codes: new Uint8Array(cols).map(() => rng.int(8)),
      scales: quantizeBilevelStat(new Float32Array(G).fill(0.02), 1, G, 3, 16),
      zeros: quantizeBilevelStat(new Float32Array(G).fill(3), 1, G, 3, 16),
      outliers: encodeOutliers(1, cols, mask, new Float32Array(cols).fill(-7.5)),
    });
    expect(wide.outliers.cols).toBeInstanceOf(Uint32Array);
    const bf = Float32Array.of(1.5, 0, 0, -2, 0, 0.25, 3, 0); // bf16-representable
    const w = await createContainerWriter(out);
    await w.addPacked('wide', wide);
    await w.addPacked('bf', compressNM(bf, 1, 8, 2, 4), { valueDtype: 'bf16' });
    await w.finish();
    const c = await openSparqContainer(out);
    expect(c.entry('wide').components.find((x) => x.key === 'outlier_cols')!.dtype).toBe('i32');
    const back = await c.readPacked('wide', { verify: true });
    expect(back.kind === 'spqr' && back.outliers.cols).toBeInstanceOf(Uint32Array);
    expect(Array.from(back.kind === 'spqr' ? back.outliers.cols : [])).toEqual([3, 65535, 65540]);
    expect(sameF32((await c.readF32('wide')).data, decodeSpqr(wide))).toBe(true);
    expect(c.entry('bf').components.find((x) => x.key === 'values')!.dtype).toBe('bf16');
    expect(Array.from((await c.readF32('bf')).data)).toEqual(Array.from(bf));
    await c.close();
  });

  it('writes and reads an empty container', async () => {
    const out = join(dir, 'empty');
    const res = await (await createContainerWriter(out)).finish();
    expect(res.shards).toEqual(['model.safetensors']);
    const c = await openSparqContainer(out);
    expect(c.names()).toEqual([]);
    expect(c.manifest.architecture).toBeNull();
    expect(c.accounting().bitsPerWeight).toBe(0);
    await c.close();
  });

  it('is atomic: nothing at the target after an error or abort', async () => {
    const out = join(dir, 'atomic');
    const w = await createContainerWriter(out);
    await w.addTensor('a', Tensor.f32([2], [1, 2]));
    // a weight that fails validation aborts the whole container
    expect(await code(w.addPacked('bad', { ...quant(2, 8, 4, 8, false), scales: new Uint16Array(1) }))).toBe('E_SHAPE_MISMATCH');
    expect(await code(w.finish())).toBe('E_ARG');
    const w2 = await createContainerWriter(out);
    await w2.addTensor('a', Tensor.f32([2], [1, 2]));
    await w2.abort();
    expect((await readdir(dir)).filter((f) => f.startsWith('atomic') || f.startsWith('.atomic'))).toEqual([]);
    // values not representable in the requested dtype are refused
    const w3 = await createContainerWriter(out);
    expect(await code(w3.addPacked('x', compressNM(Float32Array.of(0.1, 0, 0, 0), 1, 4, 2, 4), { valueDtype: 'f16' }))).toBe('E_ARG');
    // an existing target is refused unless overwrite
    await writeSample(join(dir, 'exists'));
    expect(await code(createContainerWriter(join(dir, 'exists')))).toBe('E_ARG');
    const w4 = await createContainerWriter(join(dir, 'exists'), { overwrite: true });
    await w4.addTensor('only', Tensor.f32([1], [3]));
    await w4.finish();
    const c = await openSparqContainer(join(dir, 'exists'));
    expect(c.names()).toEqual(['only']);
    await c.close();
  });

  describe('rejects damaged containers', () => {
    it('truncated shard', async () => {
      const out = join(dir, 'trunc');
      await writeSample(out);
      const p = join(out, 'model.safetensors');
      const size = (await readFile(p)).byteLength;
      await truncate(p, size - 5);
      const err = await openSparqContainer(out).catch((e) => e);
      expect(err.code).toBe('E_SAFETENSORS');
      expect(err.message).toMatch(/truncated/);
    });

    it('corrupt shard header', async () => {
      const out = join(dir, 'corrupt');
      await writeSample(out);
      const p = join(out, 'model.safetensors');
      const bytes = await readFile(p);
      bytes[8] = 0x5b; // '[' instead of '{': the header is no longer a JSON object
      await writeFile(p, bytes);
      const err = await openSparqContainer(out).catch((e) => e);
      expect(err.code).toBe('E_SAFETENSORS');
      expect(err.message).toContain('model.safetensors');
    });

    it('checksum mismatch (on verify, not on open)', async () => {
      const out = join(dir, 'sum');
      await writeSample(out);
      const p = join(out, 'model.safetensors');
      const bytes = await readFile(p);
      bytes[bytes.byteLength - 1]! ^= 0x01; // last byte belongs to the last tensor (the f16 embedding)
      await writeFile(p, bytes);
      const c = await openSparqContainer(out);
      await c.readTensor('layers.0.q.weight', { verify: true });
      const err = await c.verify().catch((e) => e);
      expect(err.code).toBe('E_CHECKSUM');
      expect(err.details.tensor).toBe('model.embed_tokens.weight');
      expect(await code(c.readTensor('model.embed_tokens.weight', { verify: true }))).toBe('E_CHECKSUM');
      await c.close();
    });

    it('metadata that contradicts tensor sizes', async () => {
      const out = join(dir, 'contra');
      await writeSample(out);
      await editShardMetadata(join(out, 'model.safetensors'), (m) => {
        const r = JSON.parse(m['sparq:layers.0.q.weight']!);
        r.bits = 3;
        m['sparq:layers.0.q.weight'] = JSON.stringify(r);
      });
      const err = await openSparqContainer(out).catch((e) => e);
      expect(err.code).toBe('E_SHAPE_MISMATCH');
      expect(err.message).toContain('layers.0.q.weight');
      expect(err.message).toContain('u8 [9, 12]');
    });

    it('unknown format version (manifest and shard)', async () => {
      const out = join(dir, 'ver');
      await writeSample(out);
      const mp = join(out, 'sparq.json');
      const m = JSON.parse(await readFile(mp, 'utf8'));
      await writeFile(mp, JSON.stringify({ ...m, format_version: 2 }));
      expect(await code(openSparqContainer(out))).toBe('E_FORMAT_VERSION');
      await writeFile(mp, JSON.stringify(m));
      await editShardMetadata(join(out, 'model.safetensors'), (meta) => {
        const r = JSON.parse(meta['sparq:layers.0.k.weight']!);
        meta['sparq:layers.0.k.weight'] = JSON.stringify({ ...r, format_version: 99 });
      });
      const err = await openSparqContainer(out).catch((e) => e);
      expect(err.code).toBe('E_FORMAT_VERSION');
      expect(err.details.tensor).toBe('layers.0.k.weight');
    });

    it('N:M group count not dividing the dimension', async () => {
      const out = join(dir, 'nmdiv');
      await writeSample(out);
      await editShardMetadata(join(out, 'model.safetensors'), (meta) => {
        const r = JSON.parse(meta['sparq:layers.0.nm.weight']!);
        meta['sparq:layers.0.nm.weight'] = JSON.stringify({ ...r, n: 2, m: 5 });
      });
      const err = await openSparqContainer(out).catch((e) => e);
      expect(err.code).toBe('E_SHAPE_MISMATCH');
      expect(err.message).toMatch(/groups of 5 do not divide 32 columns/);
    });

    it('missing manifest, shard or metadata record', async () => {
      expect(await code(openSparqContainer(join(dir, 'nothing-here')))).toBe('E_NOT_FOUND');
      const out = join(dir, 'norec');
      await writeSample(out);
      await editShardMetadata(join(out, 'model.safetensors'), (meta) => { delete meta['sparq:layers.0.v.weight']; });
      expect(await code(openSparqContainer(out))).toBe('E_CONTAINER');
    });
  });
});
