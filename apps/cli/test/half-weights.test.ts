// eval / generate on a half-precision checkpoint: its linears stay f16 / bf16 by default (reported as halfLinears)
// and `--dense` widens them to f32 at load, with the same perplexity and text (the cpu-wasm kernels widen exactly).
// The checkpoints are generated here from stories260K's f32 HF weights.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors } from '@sparq/format';
import { f32ArrayToBf16, f32ArrayToF16, Tensor } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sparq } from './run-cli';

const hf = () => sharedPath('models', 'stories260K', 'hf');
const tok = () => sharedPath('models', 'stories260K', 'tok512.bin');
const sample = () => sharedPath('data', 'tinystories', 'tinystories_sample.txt');
const root = mkdtempSync(join(tmpdir(), 'sparq-cli-half-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('half-precision checkpoints in eval and generate', () => {
  beforeAll(async () => {
    const src = await openSafetensors(join(hf(), 'model.safetensors'));
    try {
      for (const dtype of ['f16', 'bf16'] as const) {
        const out: Record<string, Tensor> = {};
        for (const name of src.names()) {
          const t = (await src.read(name)).toF32();
          out[name] = new Tensor(dtype, t.shape, dtype === 'f16' ? f32ArrayToF16(t.data) : f32ArrayToBf16(t.data));
        }
        await writeSafetensors(join(root, dtype, 'model.safetensors'), out);
        copyFileSync(join(hf(), 'config.json'), join(root, dtype, 'config.json'));
      }
    } finally {
      await src.close();
    }
  });

  for (const dtype of ['f16', 'bf16'] as const) {
    it(`${dtype}: linears kept half precision by default, widened with --dense, same results`, async () => {
      const evalArgs = ['eval', join(root, dtype), '--tokenizer', tok(), '--text', sample(), '--doc-separator', '<|endoftext|>', '--backend', 'cpu-wasm', '--json'];
      const [kept, dense] = [await sparq(...evalArgs), await sparq(...evalArgs, '--dense')];
      expect(kept.err).not.toMatch(/error\[/);
      expect(JSON.parse(kept.out).halfLinears).toBe(35);
      expect(JSON.parse(dense.out).halfLinears).toBe(0);
      expect(JSON.parse(kept.out).perplexity).toBe(JSON.parse(dense.out).perplexity);
      const gen = (...flags: string[]) =>
        sparq('generate', join(root, dtype), '--tokenizer', tok(), '--prompt', 'Once', '--max-tokens', '8', '--backend', 'cpu-wasm', '--json', ...flags);
      const [gKept, gDense] = [await gen(), await gen('--dense')];
      expect(JSON.parse(gKept.out).halfLinears).toBe(35);
      expect(JSON.parse(gKept.out).newIds).toEqual(JSON.parse(gDense.out).newIds);
    });
  }
});
