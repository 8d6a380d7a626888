// loadModelFrom: a sparq container and its tokenizer read from named byte sources (as a browser gets them) must give
// the same model as loadModel on the folder — bit-identical logits and greedy tokens — and say what is missing.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobSource, bytesSource, byteSourceSet, createContainerWriter, encodeQuantized, openSafetensorsModel, type ByteSourceSet } from '@sparq/format';
import { createReferenceBackend, f16ToF32, f32ToF16, isSparqError } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { loadModel } from './load';
import { loadModelFrom } from './load-from';
import { loadTokenizer } from './tokenizer/load';
import { loadTokenizerFrom } from './tokenizer/from-files';

const HF = sharedPath('models', 'stories260K', 'hf');
const TOK = sharedPath('models', 'stories260K', 'tok512.bin');
const backend = createReferenceBackend();
let dir: string;
let container: string;
let files: Map<string, Uint8Array>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sparq-lm-from-'));
  container = join(dir, 'c.sparq');
  const st = await openSafetensorsModel(HF);
  const w = await createContainerWriter(container, { architecture: JSON.parse(await readFile(join(HF, 'config.json'), 'utf8')) as Record<string, unknown>, tokenizerFiles: [TOK] });
  for (const name of st.names()) {
    const t = (await st.read(name)).toF32();
    if (/self_attn\.[qkvo]_proj\.weight$/.test(name)) {
      // 8-bit symmetric per-channel RTN, so the packed (matmulQuant) path is exercised.
      const [rows, cols] = t.shape as [number, number];
      const s = new Float32Array(rows);
      const codes = new Uint8Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        let mx = 0;
        for (let c = 0; c < cols; c++) mx = Math.max(mx, Math.abs(t.data[r * cols + c]!));
        s[r] = f16ToF32(f32ToF16(mx / 127));
        for (let c = 0; c < cols; c++) codes[r * cols + c] = Math.min(255, Math.max(0, Math.round(t.data[r * cols + c]! / s[r]!) + 128));
      }
      await w.addPacked(name, encodeQuantized({ rows, cols, bits: 8, groupSize: cols, sym: true, codes, scales: s }), { method: 'rtn' });
    } else {
      await w.addTensor(name, t);
    }
  }
  await st.close();
  await w.finish();
  files = new Map();
  for (const f of await readdir(container)) files.set(f, new Uint8Array(await readFile(join(container, f))));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const memory = (drop?: string): ByteSourceSet => byteSourceSet('picked files', [...files].filter(([n]) => n !== drop).map(([n, b]) => bytesSource(n, b)));

describe('loadModelFrom', () => {
  it('gives the folder loader’s logits and greedy tokens exactly (packed, reference backend)', async () => {
    const a = await loadModel(container, { backend, packed: true });
    const b = await loadModelFrom(byteSourceSet('blobs', [...files].map(([n, bytes]) => blobSource(new Blob([bytes as Uint8Array<ArrayBuffer>]), n))), { backend, packed: true });
    expect(b.source).toEqual({ kind: 'sparq', path: 'blobs' });
    expect((await b.model.loadBlock(0)).q.packed?.kind).toBe('quant');
    const ids = a.tokenizer.encode('Once upon a time');
    expect(b.tokenizer.encode('Once upon a time')).toEqual(ids);
    const la = await a.model.forward(ids);
    const lb = await b.model.forward(ids);
    expect(Array.from(lb.data)).toEqual(Array.from(la.data));
    const ga = await generate(a.model, a.tokenizer, 'Zoo', { maxTokens: 12 });
    const gb = await generate(b.model, b.tokenizer, 'Zoo', { maxTokens: 12 });
    expect(gb.ids).toEqual(ga.ids);
    expect(gb.text).toBe(ga.text);
    await a.model.dispose();
    await b.model.dispose();
  });

  it('names the missing shard, manifest or tokenizer', async () => {
    const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isSparqError(e) ? `${e.code}: ${e.message}` : String(e)));
    expect(await code(loadModelFrom(memory('model.safetensors'), { backend }))).toMatch(/^E_NOT_FOUND: .*no file "model.safetensors"/);
    expect(await code(loadModelFrom(memory('sparq.json'), { backend }))).toMatch(/^E_NOT_FOUND: picked files is not a sparq container/);
    expect(await code(loadModelFrom(memory('tok512.bin'), { backend }))).toMatch(/^E_NOT_FOUND: .*no file "tok512.bin"/);
  });
});

describe('loadTokenizerFrom', () => {
  it('reads GPT-2 vocab.json + merges.txt from byte sources like loadTokenizer reads the folder', async () => {
    const folder = sharedPath('models', 'gpt2-tokenizer');
    const set = byteSourceSet('gpt2', await Promise.all(['vocab.json', 'merges.txt'].map(async (n) => bytesSource(n, new Uint8Array(await readFile(join(folder, n)))))));
    const a = await loadTokenizer(folder);
    const b = await loadTokenizerFrom(set, ['vocab.json', 'merges.txt']);
    const text = 'Hello world, this is sparq in a browser.';
    expect(b.kind).toBe(a.kind);
    expect(b.encode(text)).toEqual(a.encode(text));
    expect(b.decode(b.encode(text))).toBe(text);
  });

  it('is E_NOT_FOUND listing the names when none is a tokenizer', async () => {
    await expect(loadTokenizerFrom(memory(), ['config.json'])).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('no tokenizer among the files of picked files (config.json)') });
  });
});
