import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedPath } from '@sparq/test-utils';
import { sparq, withEnv } from './run-cli';


const stories = () => sharedPath('models', 'stories260K');
const sample = () => sharedPath('data', 'tinystories', 'tinystories_sample.txt');

describe('sparq CLI', () => {
  it('inspect prints architecture, parameter count and every tensor (JSON)', async () => {
    const r = await sparq('inspect', join(stories(), 'hf'), '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.architecture).toBe('llama');
    expect(info.parameters).toBe(260032); // MANIFEST.md
    expect(info.tensors).toHaveLength(47); // MANIFEST.md: 47 tensors in the HF copy
    expect(info.tensors.find((t: { name: string }) => t.name === 'model.embed_tokens.weight')).toMatchObject({
      shape: [512, 64],
      dtype: 'f32',
    });
  });

  it('eval reproduces the stories260K reference perplexity (documents protocol)', async () => {
    const ref = JSON.parse(readFileSync(join(stories(), 'reference-ppl-tinystories_sample.json'), 'utf8'));
    const r = await sparq('eval', join(stories(), 'stories260K.bin'), '--text', sample(), '--doc-separator', '<|endoftext|>', '--json');
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.tokens).toBe(ref.n_predicted_tokens);
    expect(Math.abs(res.perplexity - ref.ppl)).toBeLessThan(1e-3);
    expect(Math.abs(res.nll - ref.mean_nll)).toBeLessThan(1e-4);
    expect(r.err).toMatch(/eval \d+\/\d+ windows/); // progress on stderr, not stdout
  });

  it('SPARQ_WASM_SIMD picks the cpu-wasm build: baseline agrees with the default to f32 rounding, a bad value is E_ARG', async () => {
    const args = ['eval', join(stories(), 'stories260K.bin'), '--text', sample(), '--json'];
    await withEnv('SPARQ_WASM_SIMD', async (set) => {
      set(undefined);
      const auto = await sparq(...args);
      set('baseline');
      const baseline = await sparq(...args);
      expect(auto.code, auto.err).toBe(0);
      expect(baseline.code, baseline.err).toBe(0);
      // The relaxed build's GEMM tiles use a fused multiply-add: the perplexities differ only by f32 rounding.
      const [p0, p1] = [JSON.parse(baseline.out).perplexity, JSON.parse(auto.out).perplexity];
      expect(Math.abs(p1 - p0) / p0).toBeLessThan(1e-6);
      set('fast');
      const bad = await sparq(...args);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/error\[E_ARG\]: SPARQ_WASM_SIMD is "fast"; expected one of auto, relaxed, baseline/);
    });
  });

  it('generate --greedy reproduces the reference tokens from the HF folder + tok512.bin', async () => {
    const ref = JSON.parse(readFileSync(join(stories(), 'reference-greedy-Zoo.json'), 'utf8'));
    const r = await sparq(
      'generate', join(stories(), 'hf'), '--tokenizer', join(stories(), 'tok512.bin'),
      '--prompt', 'Zoo', '--max-tokens', '57', '--greedy', '--json',
    );
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.ids).toEqual(ref.greedy_ids);
    expect(typeof res.text).toBe('string');
  });

  it('seeded sampling is reproducible and differs across seeds', async () => {
    const run = async (seed: string) =>
      JSON.parse((await sparq('generate', 'stories260K', '--prompt', 'Once', '--max-tokens', '20', '--temperature', '1', '--top-k', '40', '--seed', seed, '--json')).out).ids;
    const a = await run('1');
    expect(await run('1')).toEqual(a);
    expect(await run('2')).not.toEqual(a);
  });

  it('reports bad input as one error line with a code, no stack, exit 1', async () => {
    const missing = await sparq('eval', 'stories260K', '--text', '/nonexistent/file.txt');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error\[E_IO\]: cannot read text file \/nonexistent\/file.txt/);
    expect(missing.err).not.toMatch(/\n\s+at /);
    const typo = await sparq('generate', 'stories260K', '--prompt', 'x', '--max-token', '3');
    expect(typo.code).toBe(1);
    expect(typo.err).toMatch(/^error\[E_ARG\]: unknown option --max-token for "sparq generate"/);
    const badNum = await sparq('generate', 'stories260K', '--prompt', 'x', '--max-tokens', 'lots');
    expect(badNum.err).toMatch(/^error\[E_ARG\]: --max-tokens must be an integer/);
    const badBackend = await sparq('eval', 'stories260K', '--text', sample(), '--backend', 'tpu');
    expect(badBackend.err).toMatch(/^error\[E_ARG\]: unknown backend "tpu"/);
    const noModel = await sparq('inspect', '/no/such/model', '--offline');
    expect(noModel.code).toBe(1);
    expect(noModel.err).toMatch(/^error\[E_NOT_FOUND\]/);
    const verbose = await sparq('eval', 'stories260K', '--text', '/nonexistent/file.txt', '--verbose');
    expect(verbose.err).toMatch(/\n\s+at /); // the stack, only with --verbose
    const unknownCmd = await sparq('compres');
    expect(unknownCmd.code).toBe(1);
    expect(unknownCmd.err).toMatch(/^error\[E_ARG\]: Unknown command compres/);
  });

  it('the built binary runs, prints help and exits 1 on bad input', () => {
    const bin = join(__dirname, '..', 'dist', 'main.js');
    expect(existsSync(bin), 'apps/cli/dist/main.js missing: run pnpm build (turbo runs it before test)').toBe(true);
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/eval/);
    const bad = spawnSync(process.execPath, [bin, 'eval', 'stories260K', '--text', '/nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error\[E_IO\]/);
    // eval and generate run sparq containers packed by default; the help says so and names both ways out.
    for (const cmd of ['eval', 'generate']) {
      const h = spawnSync(process.execPath, [bin, cmd, '--help'], { encoding: 'utf8' }).stdout.replace(/\x1b\[[0-9;]*m/g, '');
      expect(h).toMatch(/--packed\s+.*\(the default\)/);
      expect(h).toMatch(/--no-packed\s+.*decode compressed layers and widen f16 \/ bf16 weights to f32/);
      expect(h).toMatch(/--dense\s+.*same as --no-packed/);
    }
  });
});
