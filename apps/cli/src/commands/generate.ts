/** `sparq generate <model> --prompt <text>`: greedy or sampled generation with a KV cache. */
import { defineCommand } from 'citty';
import { generate } from '@sparq/lm';
import { SparqError } from '@sparq/tensor';
import { openModel } from '../open-model';
import { intArg, modelRunArgs, numberArg, outputArgs, packedArgs } from '../options';
import { type Io, printResult } from '../output';

const args = {
  model: { type: 'positional', description: 'model folder, llama2.c .bin, known name (stories260K) or Hub id', required: true },
  prompt: { type: 'string', description: 'prompt text', required: true, valueHint: 'text' },
  maxTokens: { type: 'string', description: 'new tokens to generate (default 64)', valueHint: 'N' },
  greedy: { type: 'boolean', description: 'pick the most likely token every step (default unless --temperature is given)' },
  temperature: { type: 'string', description: 'sampling temperature (> 0)', valueHint: 'T' },
  topK: { type: 'string', description: 'sample among the K most likely tokens', valueHint: 'K' },
  topP: { type: 'string', description: 'nucleus sampling: smallest set with probability ≥ P', valueHint: 'P' },
  seed: { type: 'string', description: 'random seed for sampling (default 0)', valueHint: 'S' },
  ...modelRunArgs,
  ...packedArgs,
  ...outputArgs,
} as const;

/** Builds the command (the Io is injected for tests). */
export function generateCommand(io: Io) {
  return defineCommand({
    meta: { name: 'generate', description: 'generate text from a prompt' },
    args,
    async run({ args: a }) {
      const maxTokens = intArg('max-tokens', a.maxTokens, { min: 0 }) ?? 64;
      const temperature = numberArg('temperature', a.temperature, { min: 0 });
      const topK = intArg('top-k', a.topK, { min: 1 });
      const topP = numberArg('top-p', a.topP, { min: 0, max: 1 });
      const seed = intArg('seed', a.seed) ?? 0;
      const sampling = temperature !== undefined || topK !== undefined || topP !== undefined;
      if (a.greedy && sampling) {
        throw new SparqError('E_ARG', '--greedy cannot be combined with --temperature, --top-k or --top-p');
      }
      const greedy = !sampling || temperature === 0;
      const m = await openModel(a, io);
      try {
        // Stream the text to stderr as it is produced when a human is watching; stdout keeps the result.
        const stream = !a.json && io.isTty;
        const r = await generate(m.model, m.tokenizer, a.prompt, {
          maxTokens,
          ...(greedy ? { greedy: true } : { temperature: temperature ?? 1, seed, ...(topK ? { topK } : {}), ...(topP !== undefined ? { topP } : {}) }),
          ...(stream ? { onToken: (_id: number, piece: string) => io.stderr(piece) } : {}),
        });
        if (stream) io.stderr('\n');
        const result = {
          text: r.text,
          ids: r.ids,
          newIds: r.newIds,
          prompt: a.prompt,
          model: m.path,
          backend: m.backend.name,
          packedLinears: m.packedLinears,
          halfLinears: m.halfLinears,
          sampling: greedy ? { greedy: true } : { temperature: temperature ?? 1, topK: topK ?? null, topP: topP ?? null, seed },
          stats: r.stats,
        };
        printResult(io, Boolean(a.json), result, () =>
          [
            r.text,
            '',
            `${r.stats.newTokens} new tokens · ${r.stats.tokensPerSecond.toFixed(1)} tok/s · backend ${m.backend.name}`,
          ].join('\n'),
        );
      } finally {
        await m.close();
      }
    },
  });
}

/** The args table, for the CLI reference and the strict flag check. */
export const generateArgs = args;
