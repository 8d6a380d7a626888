// Picked files → the container's source set: base names, the folder holding sparq.json, clear refusals.
import { isSparqError } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { sourcesFromFiles, sourcesFromUrl } from './sources';
import { formatBytes, weightBytes } from './weight-bytes';

/** A File as a folder pick gives it (`webkitRelativePath` set; Node's File lacks the property). */
function picked(path: string, text = path): File {
  const f = new File([text], path.slice(path.lastIndexOf('/') + 1));
  Object.defineProperty(f, 'webkitRelativePath', { value: path.includes('/') ? path : '' });
  return f;
}

async function text(set: ReturnType<typeof sourcesFromFiles>, name: string): Promise<string> {
  const s = await set.open(name);
  return new TextDecoder().decode(await s.read(0, s.size));
}

function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isSparqError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a throw');
}

describe('sourcesFromFiles', () => {
  it('serves picked files by base name', async () => {
    const set = sourcesFromFiles([picked('sparq.json', '{}'), picked('model.safetensors', 'st')]);
    expect(set.location).toBe('selected files');
    expect(await text(set, 'sparq.json')).toBe('{}');
    expect(await text(set, 'model.safetensors')).toBe('st');
    await expect(set.open('tok512.bin')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('takes a folder pick’s files beside sparq.json, ignoring nested folders', async () => {
    const set = sourcesFromFiles([picked('m.sparq/sparq.json', 'top'), picked('m.sparq/tok512.bin', 'tok'), picked('m.sparq/old/sparq.json', 'nested')]);
    expect(set.location).toBe('folder m.sparq');
    expect(await text(set, 'sparq.json')).toBe('top');
    expect(await text(set, 'tok512.bin')).toBe('tok');
  });

  it('refuses an empty pick and files without sparq.json', () => {
    expect(errorOf(() => sourcesFromFiles([])).message).toBe('no files selected');
    expect(errorOf(() => sourcesFromFiles([picked('model.safetensors')]))).toEqual({ code: 'E_ARG', message: 'the 1 selected file(s) (model.safetensors) include no sparq.json: this is not a sparq container' });
    expect(errorOf(() => sourcesFromUrl('  ')).message).toBe('no model URL given');
    expect(errorOf(() => sourcesFromUrl('not a url')).code).toBe('E_ARG');
  });
});

describe('weight bytes', () => {
  it('packed bytes are the stored bits / 8, dense is 4 bytes per parameter', () => {
    const w = weightBytes({ weights: [], params: 1000, bits: { values: 0, indices: 0, scales: 0, zeros: 0, outliers: 0, stats: 0 }, totalBits: 7000, bitsPerWeight: 7, compressedBitsPerWeight: 3 });
    expect(w).toEqual({ packed: 875, denseF32: 4000, params: 1000, bitsPerWeight: 7, compressedBitsPerWeight: 3 });
  });

  it('formats decimal sizes', () => {
    expect([999, 1000, 12_345, 227_900, 1_040_128, 3.2e9].map(formatBytes)).toEqual(['999 B', '1.00 kB', '12.3 kB', '228 kB', '1.04 MB', '3.20 GB']);
  });
});
