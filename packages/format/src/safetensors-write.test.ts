import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SparqError, Tensor, allocStorage, shapeSize, type DType } from '@sparq/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from './safetensors-read';
import { decodeIndependently, makeTempDir, rejection } from './safetensors-test-helpers';
import { writeSafetensors, writeSafetensorsStreaming } from './safetensors-write';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await makeTempDir()));
afterAll(() => cleanup());

/** A tensor of `dtype` and `shape` filled with distinct values that exercise signs and extremes. */
function sample(dtype: DType, shape: number[], seed: number): Tensor {
  const n = shapeSize(shape);
  const data = allocStorage(dtype, n);
  for (let i = 0; i < n; i++) {
    const k = i + seed * 7;
    switch (dtype) {
      case 'i64': (data as BigInt64Array)[i] = (BigInt(k) - 5n) * 0x1_0000_0001n * (i % 2 === 0 ? -1n : 1n); break;
      case 'bool': (data as Uint8Array)[i] = k % 2; break;
      case 'f16': case 'bf16': (data as Uint16Array)[i] = (k * 2654435761) & 0xffff; break; // arbitrary bit patterns
      case 'f64': case 'f32': (data as Float64Array)[i] = (k - 3.25) * (i % 2 ? -1e-3 : 1e3); break;
      default: (data as Int32Array)[i] = (k * 37) - 60;
    }
  }
  return new Tensor(dtype, shape, data);
}

/** Files left in `dir` whose names start with `prefix` (target or temp). */
async function leftovers(prefix: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith(prefix));
}

const ALL: DType[] = ['f64', 'f32', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'bool'];

describe('writeSafetensors round trip', () => {
  it.each(ALL)('%s: matrix, scalar and zero-size tensors', async (dtype) => {
    const tensors: [string, Tensor][] = [
      ['m', sample(dtype, [3, 5], 1)],
      ['scalar', sample(dtype, [], 2)],
      ['empty', sample(dtype, [0, 4], 3)],
      ['v', sample(dtype, [7], 4)],
    ];
    const path = join(dir, `rt-${dtype}.safetensors`);
    await writeSafetensors(path, tensors);
    const f = await openSafetensors(path);
    expect(f.names()).toEqual(['m', 'scalar', 'empty', 'v']);
    for (const [name, t] of tensors) {
      const back = await f.read(name);
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
    await f.close();
    // The independent decoder agrees too (bytes are plain little-endian).
    const dec = await decodeIndependently(path);
    expect(dec.get('m')!.dtype).toBe(dtype.toUpperCase());
    expect(dec.get('v')!.values).toEqual(Array.from(tensors[3]![1].data as ArrayLike<number | bigint>));
  });

  it('round-trips metadata, a Record input and subarray storage', async () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const view = new Tensor('f32', [3], backing.subarray(1, 4));
    const metadata = { format: 'pt', note: 'héllo ✓ "quoted"', empty: '' };
    const path = join(dir, 'meta.safetensors');
    await writeSafetensors(path, { b: view, a: Tensor.f32([1], [5]) }, metadata);
    const f = await openSafetensors(path);
    expect(f.metadata).toEqual(metadata);
    expect(f.names()).toEqual(['b', 'a']);
    expect(Array.from((await f.read('b')).data as Float32Array)).toEqual([1, 2, 3]);
    // Tensors are laid out in the given order, b first.
    expect(f.info('b').byteOffset).toBeLessThan(f.info('a').byteOffset);
    await f.close();
    const bytes = await readFile(path);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
  });

  it('accepts a Map (any iterable of pairs)', async () => {
    const path = join(dir, 'map.safetensors');
    await writeSafetensors(path, new Map([['x', Tensor.f32([2], [1, 2])]]));
    const f = await openSafetensors(path);
    expect(f.names()).toEqual(['x']);
    await f.close();
  });

  it('writes the header byte for byte as the spec says', async () => {
    const path = join(dir, 'golden.safetensors');
    await writeSafetensors(path, [['a', Tensor.f32([2], [1, 2])], ['b', new Tensor('u8', [], new Uint8Array([7]))]], { k: 'v' });
    const json = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[],"data_offsets":[8,9]}}';
    // 130 JSON bytes, padded with 6 spaces to 136 = 0x88.
    expect(json.length).toBe(130);
    const expected = new Uint8Array([
      0x88, 0, 0, 0, 0, 0, 0, 0,
      ...new TextEncoder().encode(json), 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
      0x00, 0x00, 0x80, 0x3f, // 1.0f
      0x00, 0x00, 0x00, 0x40, // 2.0f
      0x07,
    ]);
    expect(new Uint8Array(await readFile(path))).toEqual(expected);
  });

  it('creates parent folders and replaces an existing file', async () => {
    const path = join(dir, 'deep', 'er', 'x.safetensors');
    await writeSafetensors(path, { a: Tensor.f32([1], [1]) });
    await writeSafetensors(path, { a: Tensor.f32([1], [2]) });
    const f = await openSafetensors(path);
    expect((await f.read('a')).data[0]).toBe(2);
    await f.close();
    expect(await readdir(join(dir, 'deep', 'er'))).toEqual(['x.safetensors']);
  });
});

describe('writeSafetensorsStreaming', () => {
  it('writes tensors as they are produced, in order', async () => {
    const path = join(dir, 'stream.safetensors');
    const calls: string[] = [];
    await writeSafetensorsStreaming(
      path,
      [
        { name: 'w2', dtype: 'bf16', shape: [2, 2] },
        { name: 'w1', dtype: 'i64', shape: [1] },
      ],
      async (name) => {
        calls.push(name);
        return name === 'w2' ? new Tensor('bf16', [2, 2], new Uint16Array([1, 2, 3, 0xffff])) : new Tensor('i64', [1], new BigInt64Array([-(2n ** 62n)]));
      },
      { format: 'pt' },
    );
    expect(calls).toEqual(['w2', 'w1']);
    const f = await openSafetensors(path);
    expect(Array.from((await f.read('w2')).data as Uint16Array)).toEqual([1, 2, 3, 0xffff]);
    expect((await f.read('w1')).data[0]).toBe(-(2n ** 62n));
    await f.close();
  });

  it.each([
    ['dtype', new Tensor('f16', [2], new Uint16Array(2)), 'declared f32 [2], produced f16 [2]'],
    ['shape', Tensor.f32([1, 2], [1, 2]), 'declared f32 [2], produced f32 [1, 2]'],
    ['non-tensor', { dtype: 'f32', shape: [2] }, 'expected a Tensor f32 [2]'],
  ])('a produced tensor with the wrong %s is E_SHAPE_MISMATCH and leaves nothing', async (what, bad, fragment) => {
    const path = join(dir, `mismatch-${what}.safetensors`);
    const err = await rejection(writeSafetensorsStreaming(
      path,
      [
        { name: 'ok', dtype: 'f32', shape: [2] },
        { name: 'bad', dtype: 'f32', shape: [2] },
      ],
      (name) => (name === 'ok' ? Tensor.f32([2], [1, 2]) : (bad as Tensor)),
    ));
    expect(err).toBeInstanceOf(SparqError);
    expect(err.code).toBe('E_SHAPE_MISMATCH');
    expect(err.message).toContain('tensor "bad"');
    expect(err.message).toContain(path);
    expect(err.message).toContain(fragment);
    expect(err.details.tensor).toBe('bad');
    expect(await leftovers(`mismatch-${what}.safetensors`)).toEqual([]);
  });

  it('a throwing producer propagates its error, leaves no temp file and keeps the old target', async () => {
    const path = join(dir, 'keep.safetensors');
    await writeFile(path, 'old');
    const boom = new Error('producer failed');
    await expect(
      writeSafetensorsStreaming(path, [{ name: 'a', dtype: 'u8', shape: [1] }], () => Promise.reject(boom)),
    ).rejects.toBe(boom);
    expect(await leftovers('keep.safetensors')).toEqual(['keep.safetensors']);
    expect(await readFile(path, 'utf8')).toBe('old');
  });

  it('rejects bad declarations before touching the disk', async () => {
    const p = (n: string) => join(dir, `decl-${n}.safetensors`);
    const t = Tensor.f32([1], [1]);
    await expect(writeSafetensors(p('dup'), [['a', t], ['a', t]])).rejects.toMatchObject({ code: 'E_ARG', details: { tensor: 'a' } });
    await expect(writeSafetensors(p('reserved'), { __metadata__: t })).rejects.toMatchObject({ code: 'E_ARG' });
    await expect(writeSafetensors(p('meta'), { a: t }, { n: 1 as unknown as string })).rejects.toMatchObject({ code: 'E_ARG' });
    await expect(writeSafetensorsStreaming(p('dtype'), [{ name: 'a', dtype: 'f8' as DType, shape: [1] }], () => t)).rejects.toMatchObject({ code: 'E_DTYPE' });
    await expect(writeSafetensorsStreaming(p('shape'), [{ name: 'a', dtype: 'f32', shape: [-1] }], () => t)).rejects.toMatchObject({ code: 'E_SHAPE_MISMATCH' });
    expect(await leftovers('decl-')).toEqual([]);
  });

  it('an unwritable target is E_IO and leaves no temp file', async () => {
    // The parent "folder" is a regular file, so mkdir fails.
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'x');
    await expect(writeSafetensors(join(blocker, 'x.safetensors'), { a: Tensor.f32([1], [1]) })).rejects.toMatchObject({ code: 'E_IO' });
    expect(await leftovers('blocker')).toEqual(['blocker']);
  });
});
