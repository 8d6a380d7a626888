import { open, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SparqError } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openSafetensors } from './safetensors-read';
import { buildSafetensorsBytes, decodeIndependently, makeTempDir, rejection, writeBytes } from './safetensors-test-helpers';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await makeTempDir()));
afterAll(() => cleanup());

/** Opens `bytes` as a file and returns the error it must raise. */
async function openError(name: string, bytes: Uint8Array): Promise<{ err: SparqError; path: string }> {
  const path = await writeBytes(dir, name, bytes);
  return { err: await rejection(openSafetensors(path)), path };
}

const f32 = (offsets: [number, number], shape = [2]) => ({ dtype: 'F32', shape, data_offsets: offsets });

describe('openSafetensors: malformed files', () => {
  // [case name, bytes, message fragment, tensor named in details (if any)]
  const cases: [string, Uint8Array, string | RegExp, string?][] = [
    ['short', new Uint8Array(5), 'shorter than the 8-byte header length'],
    ['empty', new Uint8Array(0), 'shorter than the 8-byte header length'],
    ['length-past-eof', buildSafetensorsBytes('{}', 0, 100n), 'runs past the end of the file'],
    ['too-large', buildSafetensorsBytes('{}', 0, 200_000_000n), 'larger than the 100000000-byte limit'],
    ['huge-u64', buildSafetensorsBytes('{}', 0, 0xffff_ffff_ffff_ffffn), 'larger than the 100000000-byte limit'],
    ['bad-utf8', buildSafetensorsBytes(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'not valid UTF-8'],
    ['bad-json', buildSafetensorsBytes('{"a": '), 'not valid JSON'],
    ['nul-padding', buildSafetensorsBytes('{}\0\0\0\0\0\0'), 'not valid JSON'],
    ['array', buildSafetensorsBytes('[1, 2]'), 'must be a JSON object, found an array'],
    ['null', buildSafetensorsBytes('null'), 'must be a JSON object, found null'],
    ['number', buildSafetensorsBytes('3'), 'must be a JSON object, found number'],
    ['entry-not-object', buildSafetensorsBytes({ a: [1] }), 'must be an object with dtype', 'a'],
    ['no-dtype', buildSafetensorsBytes({ a: { shape: [2], data_offsets: [0, 8] } }, 8), 'non-string "dtype"', 'a'],
    ['dtype-number', buildSafetensorsBytes({ a: { dtype: 3, shape: [2], data_offsets: [0, 8] } }, 8), 'non-string "dtype"', 'a'],
    ['no-shape', buildSafetensorsBytes({ a: { dtype: 'F32', data_offsets: [0, 8] } }, 8), 'non-array "shape"', 'a'],
    ['shape-string', buildSafetensorsBytes({ a: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, 8), 'non-array "shape"', 'a'],
    ['no-offsets', buildSafetensorsBytes({ a: { dtype: 'F32', shape: [2] } }, 8), '"data_offsets" must be [begin, end]', 'a'],
    ['offsets-one', buildSafetensorsBytes({ a: f32([0, 8]), b: { dtype: 'F32', shape: [2], data_offsets: [8] } }, 16), '"data_offsets" must be [begin, end]', 'b'],
    ['offsets-negative', buildSafetensorsBytes({ a: f32([-8, 0]) }, 8), '"data_offsets" must be [begin, end]', 'a'],
    ['offsets-float', buildSafetensorsBytes({ a: f32([0.5, 8.5]) }, 8), '"data_offsets" must be [begin, end]', 'a'],
    ['offsets-reversed', buildSafetensorsBytes({ a: f32([8, 0]) }, 8), 'end before they begin', 'a'],
    ['unknown-dtype', buildSafetensorsBytes({ a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, 2), /unsupported dtype "F8_E4M3"; supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL/, 'a'],
    ['negative-dim', buildSafetensorsBytes({ a: f32([0, 8], [-2]) }, 8), 'must hold non-negative integers', 'a'],
    ['fractional-dim', buildSafetensorsBytes({ a: f32([0, 8], [1.5]) }, 8), 'must hold non-negative integers', 'a'],
    ['byte-count', buildSafetensorsBytes({ a: f32([0, 4]) }, 4), 'hold 4 bytes, but F32 [2] needs 8', 'a'],
    ['out-of-range', buildSafetensorsBytes({ a: f32([0, 8]), b: f32([100, 108]) }, 8), 'lie outside the data section (8 bytes)', 'b'],
    ['overlap', buildSafetensorsBytes({ a: f32([0, 8]), b: f32([4, 12]) }, 12), 'overlaps the previous tensor', 'b'],
    ['gap', buildSafetensorsBytes({ a: f32([0, 8]), b: f32([12, 20]) }, 20), 'leaves a gap of 4 bytes', 'b'],
    ['not-from-zero', buildSafetensorsBytes({ a: f32([8, 16]) }, 16), 'leaves a gap of 8 bytes', 'a'],
    ['truncated', buildSafetensorsBytes({ a: f32([0, 8]), b: f32([8, 16]) }, 12), 'truncated: expected 16 bytes of data, found 12'],
    ['trailing', buildSafetensorsBytes({ a: f32([0, 8]) }, 12), 'data section holds 12 bytes but the tensors use only 8'],
    ['metadata-number', buildSafetensorsBytes({ __metadata__: { n: 1 } }), '"__metadata__" value of "n" must be a string, found number'],
    ['metadata-array', buildSafetensorsBytes({ __metadata__: ['x'] }), '"__metadata__" must be an object of strings'],
  ];

  it.each(cases)('%s', async (name, bytes, fragment, tensor) => {
    const { err, path } = await openError(`${name}.safetensors`, bytes);
    expect(err.code).toBe('E_SAFETENSORS');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(fragment);
    expect(err.details.file).toBe(path);
    if (tensor !== undefined) {
      expect(err.details.tensor).toBe(tensor);
      expect(err.message).toContain(`tensor "${tensor}"`);
    }
  });

  it('reports expected and found for truncation and byte counts', async () => {
    const t = await openError('t2.safetensors', buildSafetensorsBytes({ a: f32([0, 8]) }, 3));
    expect(t.err.details).toMatchObject({ expected: 8, found: 3 });
    const b = await openError('b2.safetensors', buildSafetensorsBytes({ a: f32([0, 4]) }, 4));
    expect(b.err.details).toMatchObject({ expected: 8, found: 4 });
  });

  it('a missing file is E_NOT_FOUND naming the path', async () => {
    const path = join(dir, 'nope.safetensors');
    await expect(openSafetensors(path)).rejects.toMatchObject({ code: 'E_NOT_FOUND', details: { file: path } });
  });

  it('accepts an empty header, zero-size tensors and trailing spaces', async () => {
    const path = await writeBytes(
      dir,
      'edge.safetensors',
      buildSafetensorsBytes('{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}   ', new Uint8Array([7])),
    );
    const f = await openSafetensors(path);
    expect(f.names()).toEqual(['z', 'a']);
    expect(f.metadata).toEqual({});
    expect((await f.read('z')).shape).toEqual([0, 3]);
    expect(Array.from((await f.read('a')).data as Uint8Array)).toEqual([7]);
    await f.close();
    const empty = await openSafetensors(await writeBytes(dir, 'empty-header.safetensors', buildSafetensorsBytes('{}')));
    expect(empty.names()).toEqual([]);
    await empty.close();
  });
});

describe('openSafetensors: lazy access', () => {
  it('reads only the header on open, then only the requested tensor', async () => {
    const data = new Uint8Array((1 << 20) + 8);
    data.set([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40], 1 << 20); // f32 1, 2
    const bytes = buildSafetensorsBytes(
      { __metadata__: { k: 'v' }, big: { dtype: 'U8', shape: [1 << 20], data_offsets: [0, 1 << 20] }, small: { dtype: 'F32', shape: [2], data_offsets: [1 << 20, (1 << 20) + 8] } },
      data,
    );
    const path = await writeBytes(dir, 'lazy.safetensors', bytes);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));

    // Count every byte requested through FileHandle.prototype.read.
    const probe = await open(path, 'r');
    const proto = Object.getPrototypeOf(probe) as { read: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    let requested = 0;
    const orig = proto.read;
    const spy = vi.spyOn(proto, 'read').mockImplementation(function (this: unknown, ...args: unknown[]) {
      requested += typeof args[2] === 'number' ? args[2] : 0;
      return orig.apply(this, args);
    });
    try {
      const f = await openSafetensors(path);
      expect(requested).toBe(8 + headerLen);
      expect(f.metadata).toEqual({ k: 'v' });
      expect(f.info('small')).toMatchObject({ dtype: 'f32', shape: [2], byteOffset: 8 + headerLen + (1 << 20), byteLength: 8 });
      const small = await f.read('small');
      expect(requested).toBe(8 + headerLen + 8);
      expect(Array.from(small.data as Float32Array)).toEqual([1, 2]);
      await f.close();
    } finally {
      spy.mockRestore();
    }
  });

  it('opens a sparse 5 GiB file quickly and reads a tensor at its end', async () => {
    const bigLen = 5 * 2 ** 30;
    const header = JSON.stringify({
      big: { dtype: 'U8', shape: [bigLen], data_offsets: [0, bigLen] },
      tail: { dtype: 'I16', shape: [3], data_offsets: [bigLen, bigLen + 6] },
    });
    const prefix = buildSafetensorsBytes(header);
    const path = join(dir, 'sparse.safetensors');
    await writeFile(path, prefix);
    // Extend without writing (sparse on every common filesystem), then place the tail tensor.
    await truncate(path, prefix.byteLength + bigLen + 6);
    const fh = await open(path, 'r+');
    await fh.write(new Uint8Array(new Int16Array([-1, 2, 300]).buffer), 0, 6, prefix.byteLength + bigLen);
    await fh.close();

    const t0 = performance.now();
    const f = await openSafetensors(path);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(f.info('big').byteLength).toBe(bigLen);
    const tail = await f.read('tail');
    expect(tail.dtype).toBe('i16');
    expect(Array.from(tail.data as Int16Array)).toEqual([-1, 2, 300]);
    await f.close();
  });

  it('returns aligned storage even when the file offset is odd for the dtype', async () => {
    // u8 [1] at 0 puts the f64 at data offset 1: misaligned in the file.
    const data = new Uint8Array(9);
    data[0] = 5;
    new DataView(data.buffer).setFloat64(1, Math.PI, true);
    const path = await writeBytes(dir, 'odd.safetensors', buildSafetensorsBytes({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, b: { dtype: 'F64', shape: [], data_offsets: [1, 9] } }, data));
    const f = await openSafetensors(path);
    const b = await f.read('b');
    expect(b.shape).toEqual([]);
    expect(b.data[0]).toBe(Math.PI);
    expect(b.data.byteOffset % 8).toBe(0);
    await f.close();
  });

  it('a missing tensor is E_NOT_FOUND naming the file and close names', async () => {
    const f = await openSafetensors(sharedPath('reference', 'tiny', 'gpt2', 'model.safetensors'));
    const err = await rejection(f.read('transformer.h.0.attn.c_attn.weigth'));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toContain(f.path);
    expect(err.message).toContain('"transformer.h.0.attn.c_attn.weight"');
    expect(err.details).toMatchObject({ file: f.path, tensor: 'transformer.h.0.attn.c_attn.weigth' });
    expect(() => f.info('nope')).toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }));
    expect(f.has('nope')).toBe(false);
    await f.close();
    await f.close(); // idempotent
    await expect(f.read('transformer.wte.weight')).rejects.toMatchObject({ code: 'E_IO' });
  });
});

describe('openSafetensors: shared fixtures', () => {
  /** Opens `path`, reads every tensor and compares it with the independent decode. */
  async function checkAgainstIndependent(path: string): Promise<Set<string>> {
    const expected = await decodeIndependently(path);
    const f = await openSafetensors(path);
    try {
      expect(new Set(f.names())).toEqual(new Set(expected.keys()));
      const dtypes = new Set<string>();
      for (const [name, e] of expected) {
        const t = await f.read(name);
        dtypes.add(e.dtype);
        expect(t.shape).toEqual(e.shape);
        expect(t.dtype.toUpperCase()).toBe(e.dtype);
        expect(Array.from(t.data as ArrayLike<number | bigint>)).toEqual(e.values);
      }
      return dtypes;
    } finally {
      await f.close();
    }
  }

  it('reads every tiny model (F32, F16, BF16) identically to a DataView decode', async () => {
    const tiny = sharedPath('reference', 'tiny');
    const dtypes = new Set<string>();
    for (const m of await readdir(tiny)) {
      if (m.endsWith('.md')) continue;
      for (const file of (await readdir(join(tiny, m))).filter((x) => x.endsWith('.safetensors'))) {
        for (const d of await checkAgainstIndependent(join(tiny, m, file))) dtypes.add(d);
      }
    }
    expect(dtypes).toEqual(new Set(['F32', 'F16', 'BF16']));
  });

  it('reads the layer inputs (F64) and cases (F64, U8) with their metadata', async () => {
    const dtypes = new Set<string>();
    for (const sub of ['inputs', 'cases']) {
      const folder = sharedPath('reference', 'layer', sub);
      for (const file of (await readdir(folder)).filter((x) => x.endsWith('.safetensors'))) {
        for (const d of await checkAgainstIndependent(join(folder, file))) dtypes.add(d);
      }
    }
    expect(dtypes).toEqual(new Set(['F64', 'U8']));
    const f = await openSafetensors(sharedPath('reference', 'layer', 'inputs', '32x128_seed0.inputs.safetensors'));
    expect(f.metadata).toEqual({ rows: '32', cols: '128', nsamples: '256' });
    await f.close();
  });

  it('spot-checks one value by hand-decoded offset', async () => {
    // First element of the first tensor of gpt2, decoded from raw bytes here.
    const path = sharedPath('reference', 'tiny', 'gpt2', 'model.safetensors');
    const fh = await open(path, 'r');
    const buf = new Uint8Array(8);
    await fh.read(buf, 0, 8, 0);
    const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
    const header = new Uint8Array(n);
    await fh.read(header, 0, n, 8);
    const entry = JSON.parse(new TextDecoder().decode(header))['transformer.h.0.attn.c_attn.bias'];
    const val = new Uint8Array(4);
    await fh.read(val, 0, 4, 8 + n + entry.data_offsets[0] + 4 * 5);
    await fh.close();
    const f = await openSafetensors(path);
    const t = await f.read('transformer.h.0.attn.c_attn.bias');
    expect(t.data[5]).toBe(new DataView(val.buffer).getFloat32(0, true));
    await f.close();
  });
});
