/**
 * `sparq quickstart`: the README's first command — the main job on a default
 * model: load it (local models folder, else the Hub), measure its perplexity,
 * compress it layer by layer into a sparq container, load the container and
 * measure again, generate a sample from it, and print the comparison.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand } from 'citty';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { compressModel, recipeFromFlags, type Recipe } from '@sparq/compress';
import { openSparqContainer } from '@sparq/format';
import { DEFAULT_MODEL, evaluatePerplexity, generate } from '@sparq/lm';
import { readText } from './eval';
import { type OpenModel, openModel } from '../open-model';
import { readRecipeFile, tokenizerFiles } from './compress';
import { modelRunArgs, outputArgs } from '../options';
import { type Io, createProgress, printResult } from '../output';

/** The sample text: `$SPARQ_DATA/tinystories/tinystories_sample.txt`, else the repository's `../shared/data` copy. */
export function defaultSampleText(): string | undefined {
  const candidates: string[] = [];
  if (process.env.SPARQ_DATA) candidates.push(join(resolve(process.env.SPARQ_DATA), 'tinystories', 'tinystories_sample.txt'));
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) {
      candidates.push(resolve(dir, '..', 'shared', 'data', 'tinystories', 'tinystories_sample.txt'));
      break;
    }
  }
  return candidates.find((c) => existsSync(c));
}

const args = {
  model: { type: 'string', description: `model to run (default ${DEFAULT_MODEL})`, default: DEFAULT_MODEL, valueHint: 'model' },
  text: { type: 'string', description: 'text file for perplexity (default: the TinyStories sample)', valueHint: 'file' },
  prompt: { type: 'string', description: 'prompt for the sample generation', default: 'Once upon a time', valueHint: 'text' },
  recipe: { type: 'string', description: 'compression recipe (default: GPTQ 4-bit per-channel, 32 self-generated calibration sequences)', valueHint: 'file' },
  out: { type: 'string', description: 'keep the compressed model in this folder (default: a temporary folder, removed at the end)', valueHint: 'dir' },
  ...modelRunArgs,
  ...outputArgs,
} as const;

/** The default compression: GPTQ 4-bit, per-channel (fits every layer shape), self-calibrated so no data is needed. */
function defaultRecipe(maxPositions: number): Recipe {
  return recipeFromFlags({ quant: 'gptq', bits: 4, group: -1, calib: 'self', samples: 32, seqlen: Math.min(128, maxPositions), seed: 0 });
}

/** Builds the command (the Io is injected for tests). */
export function quickstartCommand(io: Io) {
  return defineCommand({
    meta: { name: 'quickstart', description: 'compress the default model, then compare its perplexity and a generated sample with the original' },
    args,
    async run({ args: a }) {
      const textFile = a.text ?? defaultSampleText();
      const text = textFile ? await readText(textFile) : undefined;
      if (!text) io.stderr('no sample text found (set SPARQ_DATA or pass --text) — skipping perplexity\n');
      // TinyStories-style files separate stories with <|endoftext|> lines: score each story on its own.
      const docSeparator = text?.includes('<|endoftext|>') ? '<|endoftext|>' : undefined;
      const score = async (m: OpenModel, label: string) =>
        text
          ? evaluatePerplexity(m.model, m.tokenizer, text, { ...(docSeparator ? { docSeparator } : {}), onProgress: createProgress(io, `eval ${label}`, 'windows') })
          : undefined;

      const dense = await openModel(a, io);
      const out = a.out ?? (await mkdtemp(join(tmpdir(), 'sparq-quickstart-')));
      const target = a.out ?? join(out, 'model');
      let recipe: Recipe;
      let densePpl: Awaited<ReturnType<typeof score>>;
      const t0 = performance.now();
      try {
        io.stderr(`model ${dense.path} (${dense.model.config.architecture}, ${dense.model.parameterCount().toLocaleString('en-US')} parameters) on ${dense.backend.name}\n`);
        densePpl = await score(dense, 'dense');
        recipe = a.recipe ? await readRecipeFile(a.recipe, {}) : defaultRecipe(dense.model.config.maxPositions);
        await compressModel({
          model: dense.model,
          tokenizer: dense.tokenizer,
          recipe,
          out: target,
          tokenizerFiles: tokenizerFiles(dense.path, a.tokenizer),
          onProgress: (p) => {
            if (p.phase === 'block-done') io.stderr(`compress block ${p.block + 1}/${p.blocks}\n`);
          },
        });
      } finally {
        await dense.close();
      }
      const compressSeconds = (performance.now() - t0) / 1000;
      const small = await openModel({ ...a, model: target, tokenizer: undefined }, io);
      try {
        const ppl = await score(small, 'compressed');
        const gen = await generate(small.model, small.tokenizer, a.prompt, { maxTokens: 60 } /* no temperature: greedy */);
        const container = await openSparqContainer(target);
        const acc = container.accounting();
        await container.close();
        const result = {
          model: dense.path,
          architecture: small.model.config.architecture,
          parameters: small.model.parameterCount(),
          backend: small.backend.name,
          recipe,
          compressed: { out: a.out ?? null, seconds: compressSeconds, bitsPerWeight: acc.bitsPerWeight, linearBitsPerWeight: acc.compressedBitsPerWeight, bytes: acc.totalBits / 8 },
          eval: densePpl && ppl ? { text: textFile, densePerplexity: densePpl.perplexity, perplexity: ppl.perplexity, tokens: ppl.tokens } : null,
          generate: { prompt: a.prompt, text: gen.text, tokensPerSecond: gen.stats.tokensPerSecond },
        };
        printResult(io, Boolean(a.json), result, () =>
          [
            `compressed ${dense.path} in ${compressSeconds.toFixed(1)} s: ${acc.compressedBitsPerWeight.toFixed(2)} bits/weight in the compressed layers, ${acc.bitsPerWeight.toFixed(2)} over the whole model`,
            densePpl && ppl
              ? `perplexity ${densePpl.perplexity.toFixed(4)} → ${ppl.perplexity.toFixed(4)} on ${textFile} (${ppl.tokens} tokens)`
              : 'perplexity: skipped (no text)',
            `generated (greedy, ${gen.stats.tokensPerSecond.toFixed(0)} tok/s): ${gen.text}`,
            a.out ? `compressed model kept in ${a.out}` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      } finally {
        await small.close();
        if (!a.out) await rm(out, { recursive: true, force: true });
      }
    },
  });
}

/** The args table, for the CLI reference and the strict flag check. */
export const quickstartArgs = args;
