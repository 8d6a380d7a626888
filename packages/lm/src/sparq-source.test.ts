import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressNM, createContainerWriter, encodeQuantized, openSafetensorsModel } from '@sparq/format';
import { Tensor, createReferenceBackend, f16ToF32, f32ToF16 } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHfConfig } from './hf-source';
import { inspectModel, loadModel } from './load';
import { CausalLM } from './model';
import { openSparqWeights } from './sparq-source';
import type { WeightSource } from './weight-source';

const HF = sharedPath('models', 'stories260K', 'hf');
const TOK = sharedPath('models', 'stories260K', 'tok512.bin');
const backend = createReferenceBackend();
let dir: string;
let container: string;
/** What each weight must decode to, computed here independently of the codecs. */
const expected = new Map<string, Tensor>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sparq-lm-container-'));
  container = join(dir, 'stories260K.sparq');
  const st = await openSafetensorsModel(HF);
  const w = await createContainerWriter(container, { architecture: JSON.parse(await readFile(join(HF, 'config.json'), 'utf8')) as Record<string, unknown>, tokenizerFiles: [TOK] });
  for (const name of st.names()) {
    const t = (await st.read(name)).toF32();
    const [rows, cols] = t.shape as [number, number];
    if (/layers\.\d+\.self_attn\.[qkvo]_proj\.weight$/.test(name)) {
      // 8-bit symmetric per-channel RTN: s = f16(max|w|/127), q = clamp(round(w/s)+128, 0, 255).
      const s = new Float32Array(rows);
      const codes = new Uint8Array(rows * cols);
      const dec = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        let mx = 0;
        for (let c = 0; c < cols; c++) mx = Math.max(mx, Math.abs(t.data[r * cols + c]!));
        const s16 = f16ToF32(f32ToF16(mx / 127));
        s[r] = s16;
        for (let c = 0; c < cols; c++) {
          const q = Math.min(255, Math.max(0, Math.round(t.data[r * cols + c]! / s16) + 128));
          codes[r * cols + c] = q;
          dec[r * cols + c] = Math.fround(s16 * (q - 128));
        }
      }
      await w.addPacked(name, encodeQuantized({ rows, cols, bits: 8, groupSize: cols, sym: true, codes, scales: s }), { method: 'rtn' });
      expected.set(name, new Tensor('f32', [rows, cols], dec));
    } else if (/mlp\.(gate|up)_proj\.weight$/.test(name)) {
      // 2:4 magnitude pruning: keep the two largest |w| of every 4.
      const p = Float32Array.from(t.data);
      for (let g = 0; g < p.length / 4; g++) {
        const idx = [0, 1, 2, 3].sort((a, b) => Math.abs(p[g * 4 + b]!) - Math.abs(p[g * 4 + a]!));
        p[g * 4 + idx[2]!] = 0;
        p[g * 4 + idx[3]!] = 0;
      }
      await w.addPacked(name, compressNM(p, rows, cols, 2, 4), { method: 'magnitude', valueDtype: 'f32' });
      expected.set(name, new Tensor('f32', [rows, cols], p));
    } else {
      await w.addTensor(name, t);
      expected.set(name, t);
    }
  }
  await st.close();
  await w.finish();
});

afterAll(async () => {
  await backend.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('sparq container as a model source', () => {
  it('reads plain tensors as stored and packed weights decoded', async () => {
    const src = await openSparqWeights(container);
    expect(src.names().length).toBe(expected.size);
    for (const [name, t] of expected) {
      const got = await src.read(name);
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.toF32().data)).toEqual(Array.from(t.data as Float32Array));
    }
    expect(src.info('model.layers.0.self_attn.q_proj.weight')).toEqual({ name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'f32', shape: [64, 64] });
    await src.close();
  });

  it('loadModel detects the container; logits equal a model over the expected weights', async () => {
    const r = await loadModel(container, { backend });
    expect(r.source.kind).toBe('sparq');
    expect(r.tokenizer.vocabSize).toBe(512); // tok512.bin copied beside the manifest
    const ids = r.tokenizer.encode('Once upon a time');
    const got = await r.model.forward(ids);
    const mem: WeightSource = {
      kind: 'hf', path: 'memory', names: () => [...expected.keys()], has: (n) => expected.has(n),
      info: (n) => ({ name: n, dtype: expected.get(n)!.dtype, shape: expected.get(n)!.shape }),
      read: async (n) => expected.get(n)!, close: async () => undefined,
    };
    const ref = new CausalLM(await readHfConfig(HF), mem, backend);
    const want = await ref.forward(ids);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    await r.model.dispose();
    await ref.dispose();
    const info = await inspectModel(container);
    expect(info.source.kind).toBe('sparq');
    expect(info.parameterCount).toBe(260032);
  });
});
