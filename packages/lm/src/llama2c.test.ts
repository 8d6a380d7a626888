import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensorsModel } from '@sparq/format';
import { SparqError } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { openLlama2cCheckpoint, permuteRotateHalf } from './llama2c';
import { readHfConfig } from './hf-source';

describe('llama2.c checkpoint', () => {
  it('maps stories260K.bin to HF names, bit for bit equal to the HF safetensors copy', async () => {
    const { source, config, header } = await openLlama2cCheckpoint(sharedPath('models', 'stories260K', 'stories260K.bin'));
    const hf = await openSafetensorsModel(sharedPath('models', 'stories260K', 'hf'));
    expect(header).toMatchObject({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, sharedClassifier: true, seqLen: 512 });
    expect(source.names().sort()).toEqual(hf.names().sort());
    for (const name of hf.names()) {
      const a = await source.read(name);
      const b = await hf.read(name);
      expect(a.shape, name).toEqual(b.shape);
      expect(Buffer.from((a.data as Float32Array).buffer).equals(Buffer.from((b.data as Float32Array).buffer)), name).toBe(true);
    }
    // The derived config agrees with the HF config.json on every field that matters.
    const hfConfig = await readHfConfig(sharedPath('models', 'stories260K', 'hf'));
    expect(config).toEqual(hfConfig);
    await source.close();
    await hf.close();
  });

  it('permutes interleaved pairs to halves per head', () => {
    // 1 head, head_dim 4, 1 column: rows [a0 b0 a1 b1] → [a0 a1 b0 b1].
    expect(Array.from(permuteRotateHalf(Float32Array.from([0, 1, 2, 3]), 1, 4, 1))).toEqual([0, 2, 1, 3]);
    expect(Array.from(permuteRotateHalf(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 2, 8, 1))).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
  });

  it('rejects a file whose size disagrees with its header, with expected vs found bytes', async () => {
    const bytes = readFileSync(sharedPath('models', 'stories260K', 'stories260K.bin'));
    const file = join(mkdtempSync(join(tmpdir(), 'sparq-l2c-')), 'cut.bin');
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    const err = await openLlama2cCheckpoint(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SparqError);
    expect((err as SparqError).code).toBe('E_CHECKPOINT');
    expect((err as SparqError).message).toContain('1056540');
    expect((err as SparqError).message).toContain('1056440');
  });

  it('reads a negative vocab_size as an unshared classifier (wcls after the RoPE tables)', async () => {
    const dim = 8, hidden = 4, layers = 1, heads = 2, kv = 2, vocab = 3, seq = 2;
    const hd = dim / heads;
    const floats = vocab * dim + layers * (dim + 4 * dim * dim + dim + 3 * hidden * dim) + dim + 2 * seq * (hd / 2) + vocab * dim;
    const buf = Buffer.alloc(28 + floats * 4);
    [dim, hidden, layers, heads, kv, -vocab, seq].forEach((v, i) => buf.writeInt32LE(v, i * 4));
    const f = new Float32Array(buf.buffer, buf.byteOffset + 28, floats);
    for (let i = 0; i < floats; i++) f[i] = i;
    const file = join(mkdtempSync(join(tmpdir(), 'sparq-l2c-')), 'wcls.bin');
    writeFileSync(file, buf);
    const { source, config } = await openLlama2cCheckpoint(file);
    expect(config.tieWordEmbeddings).toBe(false);
    const head = await source.read('lm_head.weight');
    expect(Array.from(head.data as Float32Array)).toEqual(Array.from({ length: vocab * dim }, (_, i) => floats - vocab * dim + i));
    await source.close();
  });
});
