import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { sparq, withEnv } from './run-cli';


const stories = () => sharedPath('models', 'stories260K');
const hf = () => sharedPath('models', 'stories260K', 'hf');
const tok = () => sharedPath('models', 'stories260K', 'tok512.bin');
const sample = () => sharedPath('data', 'tinystories', 'tinystories_sample.txt');
const root = mkdtempSync(join(tmpdir(), 'sparq-cli-compress-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Small, fast calibration; the reference backend keeps the run independent of the wasm build.
const FAST = ['--calib', '', '--samples', '4', '--seqlen', '32', '--seed', '1', '--backend', 'reference'];
const fast = () => FAST.map((a) => (a === '' ? sample() : a));

describe('sparq compress', () => {
  it('shorthand flags → a container that sparq eval loads; --json report on stdout, progress on stderr', async () => {
    const out = join(root, 'sgpt-24-w4');
    const r = await sparq('compress', hf(), '--tokenizer', tok(), '--prune', 'sparsegpt', '--pattern', '2:4', '--quant', 'rtn', '--bits', '4', '--group', 'channel', ...fast(), '--out', out, '--json');
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.output).toBe('sparq-container');
    expect(rep.linears).toHaveLength(35);
    expect(rep.linears[0]).toMatchObject({ name: 'model.layers.0.self_attn.q_proj', pattern: '2:4', sparsity: 0.5, bits: 4, groupSize: 64 });
    expect(rep.recipe.stages.map((s: { type: string }) => s.type)).toEqual(['prune', 'quantize']);
    expect(rep.calibration).toMatchObject({ source: 'text', file: sample(), samples: 4, seqlen: 32 });
    for (const k of ['seconds', 'peakRssBytes', 'meanRelError']) expect(rep.totals[k]).toBeGreaterThan(0);
    expect(r.err).toMatch(/block 5\/5 done · .* ETA .* RSS \d+ MiB/);
    expect(existsSync(join(out, 'sparq.json'))).toBe(true);
    expect(existsSync(join(out, 'tok512.bin'))).toBe(true);

    // --dense decodes the 2:4 + 4-bit layers to f32 at load: no layer runs packed.
    const e = await sparq('eval', out, '--text', sample(), '--doc-separator', '<|endoftext|>', '--backend', 'reference', '--dense', '--json');
    expect(e.err).not.toMatch(/error\[/);
    expect(e.code).toBe(0);
    const ppl = JSON.parse(e.out).perplexity;
    expect(Number.isFinite(ppl)).toBe(true);
    expect(JSON.parse(e.out).packedLinears).toBe(0);
    // Packed is the default: every compressed linear runs on the compressed kernels, same perplexity as decode-then-dense.
    const p = await sparq('eval', out, '--text', sample(), '--doc-separator', '<|endoftext|>', '--backend', 'reference', '--json');
    expect(p.err).not.toMatch(/error\[/);
    expect(JSON.parse(p.out).packedLinears).toBe(35);
    expect(Math.abs(JSON.parse(p.out).perplexity - ppl) / ppl).toBeLessThan(1e-4);
    // --no-packed is the same switch as --dense; --packed stays accepted (the default, spelled out).
    const gen = (...flags: string[]) => sparq('generate', out, '--prompt', 'Once', '--max-tokens', '3', '--backend', 'reference', '--json', ...flags);
    const [gDefault, gNoPacked, gPacked] = [await gen(), await gen('--no-packed'), await gen('--packed')];
    expect(JSON.parse(gDefault.out).packedLinears).toBe(35);
    expect(JSON.parse(gNoPacked.out).packedLinears).toBe(0);
    expect(JSON.parse(gPacked.out).packedLinears).toBe(35);
    expect(JSON.parse(gNoPacked.out).newIds).toEqual(JSON.parse(gDefault.out).newIds);
    expect(ppl).toBeGreaterThan(3.5482); // dense reference PPL (MANIFEST.md): compression can only be measured against it
  });

  it('SPARQ_INT8_PREFILL=1 prefills an INT4 container on int8 activations: close to, not equal to, the exact run; a bad value is E_ARG', async () => {
    const out = join(root, 'rtn-w4');
    const r = await sparq('compress', hf(), '--tokenizer', tok(), '--quant', 'rtn', '--bits', '4', '--group', 'channel', ...fast(), '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const args = ['eval', out, '--text', sample(), '--doc-separator', '<|endoftext|>', '--json'];
    await withEnv('SPARQ_INT8_PREFILL', async (set) => {
      set(undefined);
      const exact = await sparq(...args);
      set('1');
      const int8 = await sparq(...args);
      expect(exact.code, exact.err).toBe(0);
      expect(int8.code, int8.err).toBe(0);
      const [p0, p1] = [JSON.parse(exact.out).perplexity, JSON.parse(int8.out).perplexity];
      // int8 activations (absmax per block) move the perplexity a little; an unchanged value would mean the option did nothing.
      expect(p1).not.toBe(p0);
      expect(Math.abs(p1 - p0) / p0).toBeLessThan(1e-2);
      set('yes');
      const bad = await sparq(...args);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/error\[E_ARG\]: SPARQ_INT8_PREFILL is "yes"; expected 0 or 1/);
    });
  });

  it('--recipe YAML with --format hf writes a plain HF folder; generate runs on it', async () => {
    const recipe = join(root, 'r.yaml');
    writeFileSync(recipe, 'stages:\n  - { type: joint, pattern: "2:4", bits: 4, group: 4 }\nignore: ["*.down_proj"]\ncalibration: { samples: 2, seqlen: 16 }\n');
    const out = join(root, 'joint-hf');
    const r = await sparq('compress', hf(), '--tokenizer', tok(), '--recipe', recipe, '--calib', 'self', '--backend', 'reference', '--format', 'hf', '--out', out);
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/30 linears compressed, 5 left dense/);
    expect(r.out).toMatch(/calibration: 2 × 16 tokens sampled from the dense model/);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'sparq-compress.json'), 'utf8')).output).toBe('hf-folder');
    const g = await sparq('generate', out, '--prompt', 'Once', '--max-tokens', '5', '--backend', 'reference', '--json');
    expect(g.code).toBe(0);
    expect(JSON.parse(g.out).newIds.length).toBeGreaterThan(0);
  });

  it('a llama2.c checkpoint compresses to the same model as its HF copy (config.json written from the header)', async () => {
    const flags = ['--prune', 'magnitude', '--pattern', '2:4', '--calib', 'self', '--samples', '2', '--seqlen', '16', '--backend', 'reference', '--json'];
    const fromBin = join(root, 'from-bin');
    const fromHf = join(root, 'from-hf');
    expect((await sparq('compress', join(stories(), 'stories260K.bin'), ...flags, '--out', fromBin)).code).toBe(0);
    expect((await sparq('compress', hf(), '--tokenizer', tok(), ...flags, '--out', fromHf)).code).toBe(0);
    const cfg = JSON.parse(readFileSync(join(fromBin, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'llama', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5, num_key_value_heads: 4, tie_word_embeddings: true });
    const ppl = async (dir: string) => {
      const e = await sparq('eval', dir, '--text', sample(), '--doc-separator', '<|endoftext|>', '--backend', 'reference', '--json');
      expect(e.code).toBe(0);
      return JSON.parse(e.out).perplexity as number;
    };
    // Magnitude 2:4 ignores calibration and q/k row permutation does not move N:M groups: identical weights, identical PPL.
    expect(await ppl(fromBin)).toBe(await ppl(fromHf));
  });

  it('reports bad options as one E_ARG/E_CONFIG line naming the flag or key', async () => {
    const out = join(root, 'never');
    const cases: [string[], RegExp][] = [
      [['--prune', 'sparsegpt', '--pattern', '5:4'], /^error\[E_ARG\]: --pattern: .*N:M/],
      [['--quant', 'rtn', '--bits', '9'], /^error\[E_ARG\]: --bits: must be one of 2, 3, 4, 8/],
      [['--quant', 'gptq', '--bits', '4', '--group', '32'], /^error\[E_CONFIG\]: recipe stages\[0\]\.group: group 32 does not divide the input dimension 172 \(linear model\.layers\.0\.mlp\.down_proj/],
      [['--prune', 'obs', '--pattern', '50%'], /^error\[E_ARG\]: --prune: must be one of magnitude \| wanda \| sparsegpt/],
      [['--pattern', '2:4'], /^error\[E_ARG\]: --pattern needs --prune/],
      [[], /^error\[E_ARG\]: nothing to do/],
      [['--prune', 'wanda', '--pattern', '2:4', '--quant', 'gptq'], /^error\[E_ARG\]: --quant: gptq after pruning would overwrite pruned weights/],
      [['--prune', 'magnitude', '--pattern', '2:4', '--joint', '--quant', 'rtn'], /^error\[E_ARG\]: --joint needs --prune sparsegpt/],
      [['--quant', 'rtn', '--format', 'gguf'], /^error\[E_ARG\]: --format must be container or hf/],
      [['--quant', 'rtn', '--error-stats', 'sometimes'], /^error\[E_ARG\]: --error-stats must be always or needed/],
      [['--quant', 'rtn', '--calib', '/no/such/file.txt'], /^error\[E_IO\]: cannot read calibration text \/no\/such\/file\.txt/],
      [['--recipe', '/no/such/recipe.yaml'], /^error\[E_IO\]: cannot read recipe/],
      [['--quant', 'rtn', '--bitz', '4'], /^error\[E_ARG\]: unknown option --bitz for "sparq compress"/],
    ];
    for (const [flags, msg] of cases) {
      const r = await sparq('compress', hf(), '--tokenizer', tok(), '--backend', 'reference', '--out', out, ...flags);
      expect(r.code, flags.join(' ')).toBe(1);
      expect(r.err, flags.join(' ')).toMatch(msg);
    }
    const bad = join(root, 'bad.yaml');
    writeFileSync(bad, 'stages: [{ type: quantize, method: rtn, bits: 4 }]\ncalibraton: {}\n');
    const r = await sparq('compress', hf(), '--tokenizer', tok(), '--recipe', bad, '--out', out);
    expect(r.err).toMatch(/^error\[E_CONFIG\]: recipe .*bad\.yaml: calibraton: unknown key/);
    const both = await sparq('compress', hf(), '--tokenizer', tok(), '--recipe', bad, '--quant', 'rtn', '--out', out);
    expect(both.err).toMatch(/^error\[E_ARG\]: --recipe cannot be combined with --prune/);
    expect(existsSync(out)).toBe(false);
  });
});
