import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContainerWriter, encodeQuantized, openSafetensors, openSafetensorsModel } from '@sparq/format';
import { f16ToF32, f32ToF16 } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import type { Io } from '../output';

async function sparq(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTty: false };
  const code = await runCli(argv, io);
  return { code, out, err };
}

const HF = sharedPath('models', 'stories260K', 'hf');
const TOK = sharedPath('models', 'stories260K', 'tok512.bin');
let dir: string;
let container: string;
/** q_proj weights of the container as this test decodes them independently. */
const decodedQ = new Map<string, Float32Array>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sparq-cli-export-'));
  container = join(dir, 'c.sparq');
  const st = await openSafetensorsModel(HF);
  const w = await createContainerWriter(container, { architecture: JSON.parse(await readFile(join(HF, 'config.json'), 'utf8')) as Record<string, unknown>, tokenizerFiles: [TOK] });
  for (const name of st.names()) {
    const t = (await st.read(name)).toF32();
    if (!name.endsWith('q_proj.weight')) {
      await w.addTensor(name, t);
      continue;
    }
    // 8-bit symmetric per-channel: s = f16(max|w|/127), q = round(w/s) + 128.
    const [rows, cols] = t.shape as [number, number];
    const scales = new Float32Array(rows);
    const codes = new Uint8Array(rows * cols);
    const dec = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      let mx = 0;
      for (let c = 0; c < cols; c++) mx = Math.max(mx, Math.abs(t.data[r * cols + c]!));
      const s = f16ToF32(f32ToF16(mx / 127));
      scales[r] = s;
      for (let c = 0; c < cols; c++) {
        const q = Math.min(255, Math.max(0, Math.round(t.data[r * cols + c]! / s) + 128));
        codes[r * cols + c] = q;
        dec[r * cols + c] = Math.fround(s * (q - 128));
      }
    }
    await w.addPacked(name, encodeQuantized({ rows, cols, bits: 8, groupSize: cols, sym: true, codes, scales }), { sourceDtype: 'f32', method: 'rtn' });
    decodedQ.set(name, dec);
  }
  await st.close();
  await w.finish();
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sparq export --dense', () => {
  it('reproduces an uncompressed HF model bit for bit (stories260K), config and tokenizer included', async () => {
    const out = join(dir, 'hf-copy');
    const r = await sparq('export', HF, '--dense', '--out', out, '--tokenizer', TOK, '--json');
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).files).toEqual(['model.safetensors', 'config.json', 'tok512.bin']);
    const a = await openSafetensors(join(HF, 'model.safetensors'));
    const b = await openSafetensors(join(out, 'model.safetensors'));
    expect(b.names()).toEqual(a.names());
    for (const n of a.names()) {
      const x = await a.read(n);
      const y = await b.read(n);
      expect(y.dtype).toBe(x.dtype);
      expect(y.shape).toEqual(x.shape);
      expect(Buffer.from((y.data as Float32Array).buffer).equals(Buffer.from((x.data as Float32Array).buffer))).toBe(true);
    }
    await a.close();
    await b.close();
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe(await readFile(join(HF, 'config.json'), 'utf8'));
    // and the exported folder runs: greedy tokens equal the reference
    const ref = JSON.parse(await readFile(sharedPath('models', 'stories260K', 'reference-greedy-Zoo.json'), 'utf8'));
    const g = await sparq('generate', out, '--prompt', 'Zoo', '--max-tokens', '57', '--greedy', '--backend', 'reference', '--json');
    expect(g.code).toBe(0);
    expect(JSON.parse(g.out).ids).toEqual(ref.greedy_ids);
  });

  it('exports a llama2.c checkpoint under HF names, equal to the HF copy of stories260K', async () => {
    const out = join(dir, 'from-bin');
    const r = await sparq('export', sharedPath('models', 'stories260K', 'stories260K.bin'), '--dense', '--out', out, '--json');
    expect(r.err).not.toMatch(/error\[/);
    expect(JSON.parse(r.out).files).toEqual(['model.safetensors', 'config.json', 'tok512.bin']);
    const a = await openSafetensorsModel(HF);
    const b = await openSafetensors(join(out, 'model.safetensors'));
    expect([...b.names()].sort()).toEqual([...a.names()].sort());
    for (const n of a.names()) {
      const x = (await a.read(n)).data as Float32Array;
      const y = (await b.read(n)).data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - y[i]!));
      expect(maxDiff, n).toBe(0);
    }
    await a.close();
    await b.close();
    const want = JSON.parse(await readFile(join(HF, 'config.json'), 'utf8'));
    const got = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    for (const k of ['model_type', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'vocab_size', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'tie_word_embeddings']) {
      expect(got[k], k).toEqual(want[k]);
    }
  });

  it('decodes a container: packed weights as decoded, plain tensors as stored', async () => {
    const out = join(dir, 'from-container');
    const r = await sparq('export', container, '--dense', '--out', out, '--dtype', 'f32', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).decoded).toBe(5);
    const st = await openSafetensors(join(out, 'model.safetensors'));
    const src = await openSafetensorsModel(HF);
    for (const n of st.names()) {
      const got = (await st.read(n)).data as Float32Array;
      const want = decodedQ.get(n) ?? ((await src.read(n)).data as Float32Array);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    await st.close();
    await src.close();
  });

  it('inspect prints the bits/weight accounting of a container', async () => {
    const r = await sparq('inspect', container, '--json');
    expect(r.code).toBe(0);
    const acc = JSON.parse(r.out).accounting;
    const q = acc.weights.find((w: { name: string }) => w.name === 'model.layers.0.self_attn.q_proj.weight');
    // 8-bit codes + one f16 scale per row of 64: 8 + 16/64
    expect(q.bitsPerWeight).toBe(8 + 16 / 64);
    expect(q.kind).toBe('quant');
    expect(acc.compressedBitsPerWeight).toBe(8.25);
    expect(acc.parameters).toBe(260032);
    const h = await sparq('inspect', container);
    expect(h.out).toMatch(/storage: [\d.]+ bits\/weight overall, 8\.2500 over compressed weights/);
    expect(h.out).toMatch(/model\.layers\.0\.self_attn\.q_proj\.weight\s+quant\s+8\.2500\s+8\.0000\s+0\.0000\s+0\.2500/);
  });

  it('eval runs on a container directly', async () => {
    const r = await sparq('eval', container, '--text', sharedPath('data', 'tinystories', 'tinystories_sample.txt'), '--json');
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    expect(Number.isFinite(JSON.parse(r.out).perplexity)).toBe(true);
  });

  it('refuses without --dense, with an existing --out, and a bad --dtype', async () => {
    expect((await sparq('export', HF, '--out', join(dir, 'x'))).err).toMatch(/error\[E_ARG\].*--dense/);
    expect((await sparq('export', HF, '--dense', '--out', dir)).err).toMatch(/error\[E_ARG\].*already exists/);
    expect((await sparq('export', HF, '--dense', '--out', join(dir, 'y'), '--dtype', 'f8')).err).toMatch(/error\[E_ARG\]/);
  });
});
