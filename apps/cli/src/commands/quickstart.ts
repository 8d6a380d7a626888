/**
 * `sparq quickstart`: the README's first command. Loads the default model
 * (local models folder, else the Hub), measures its perplexity on a sample
 * text and generates a short story, then prints the results.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand } from 'citty';
import { DEFAULT_MODEL, evaluatePerplexity, generate } from '@sparq/lm';
import { readText } from './eval';
import { openModel } from '../open-model';
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
  ...modelRunArgs,
  ...outputArgs,
} as const;

/** Builds the command (the Io is injected for tests). */
export function quickstartCommand(io: Io) {
  return defineCommand({
    meta: { name: 'quickstart', description: 'load the default model, evaluate its perplexity and generate a sample' },
    args,
    async run({ args: a }) {
      const textFile = a.text ?? defaultSampleText();
      const m = await openModel(a, io);
      try {
        io.stderr(`model ${m.path} (${m.model.config.architecture}, ${m.model.parameterCount().toLocaleString('en-US')} parameters) on ${m.backend.name}\n`);
        let ppl: Awaited<ReturnType<typeof evaluatePerplexity>> | undefined;
        if (textFile) {
          const text = await readText(textFile);
          // TinyStories-style files separate stories with <|endoftext|> lines: score each story on its own.
          const docSeparator = text.includes('<|endoftext|>') ? '<|endoftext|>' : undefined;
          ppl = await evaluatePerplexity(m.model, m.tokenizer, text, {
            ...(docSeparator ? { docSeparator } : {}),
            onProgress: createProgress(io, 'eval', 'windows'),
          });
        } else {
          io.stderr('no sample text found (set SPARQ_DATA or pass --text) — skipping perplexity\n');
        }
        const gen = await generate(m.model, m.tokenizer, a.prompt, { maxTokens: 60 } /* no temperature: greedy */);
        const result = {
          model: m.path,
          architecture: m.model.config.architecture,
          parameters: m.model.parameterCount(),
          backend: m.backend.name,
          eval: ppl ? { text: textFile, perplexity: ppl.perplexity, nll: ppl.nll, tokens: ppl.tokens } : null,
          generate: { prompt: a.prompt, text: gen.text, tokensPerSecond: gen.stats.tokensPerSecond },
        };
        printResult(io, Boolean(a.json), result, () =>
          [
            ppl ? `perplexity ${ppl.perplexity.toFixed(4)} on ${textFile} (${ppl.tokens} tokens)` : 'perplexity: skipped (no text)',
            `generated (greedy, ${gen.stats.tokensPerSecond.toFixed(0)} tok/s): ${gen.text}`,
          ].join('\n'),
        );
      } finally {
        await m.close();
      }
    },
  });
}

/** The args table, for the CLI reference and the strict flag check. */
export const quickstartArgs = args;
