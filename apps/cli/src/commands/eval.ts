/** `sparq eval <model> --text <file>`: perplexity with the standard protocol. */
import { readFile } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { evaluatePerplexity } from '@sparq/lm';
import { SparqError } from '@sparq/tensor';
import { openModel } from '../open-model';
import { intArg, modelRunArgs, outputArgs, packedArgs } from '../options';
import { type Io, createProgress, printResult } from '../output';

const args = {
  model: { type: 'positional', description: 'model folder, llama2.c .bin, known name (stories260K) or Hub id', required: true },
  text: { type: 'string', description: 'UTF-8 text file to score (CRLF is normalised)', required: true, valueHint: 'file' },
  seqlen: { type: 'string', description: 'tokens per window (default: the model context, at most 2048)', valueHint: 'N' },
  docSeparator: {
    type: 'string',
    description: "score documents separately: split on lines equal to this (e.g. '<|endoftext|>'), BOS before each",
    valueHint: 'line',
  },
  ...modelRunArgs,
  ...packedArgs,
  ...outputArgs,
} as const;

/** Reads a text file with a clear error. */
export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new SparqError('E_IO', `cannot read text file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      details: { file },
      cause: e,
    });
  }
}

/** Builds the command (the Io is injected for tests). */
export function evalCommand(io: Io) {
  return defineCommand({
    meta: { name: 'eval', description: 'perplexity of a model on a text file' },
    args,
    async run({ args: a }) {
      const text = await readText(a.text);
      const seqlen = intArg('seqlen', a.seqlen, { min: 2 });
      const m = await openModel(a, io);
      try {
        const t0 = performance.now();
        const r = await evaluatePerplexity(m.model, m.tokenizer, text, {
          ...(seqlen ? { seqlen } : {}),
          ...(a.docSeparator ? { docSeparator: a.docSeparator } : {}),
          onProgress: createProgress(io, 'eval', 'windows'),
        });
        const seconds = (performance.now() - t0) / 1000;
        const result = {
          perplexity: r.perplexity,
          nll: r.nll,
          tokens: r.tokens,
          sequences: r.sequences,
          seqlen: r.seqlen,
          model: m.path,
          text: a.text,
          backend: m.backend.name,
          packedLinears: m.packedLinears,
          halfLinears: m.halfLinears,
          seconds,
          tokensPerSecond: r.tokens / seconds,
        };
        printResult(io, Boolean(a.json), result, () =>
          [
            `perplexity ${r.perplexity.toFixed(4)}  (mean NLL ${r.nll.toFixed(5)} nats over ${r.tokens} predicted tokens, ${r.sequences} sequences)`,
            `model ${m.path} · text ${a.text} · backend ${m.backend.name}${m.packedLinears ? ` · ${m.packedLinears} linears packed` : ''}${m.halfLinears ? ` · ${m.halfLinears} linears half precision` : ''} · ${seconds.toFixed(1)} s`,
          ].join('\n'),
        );
      } finally {
        await m.close();
      }
    },
  });
}

/** The args table, for the CLI reference and the strict flag check. */
export const evalArgs = args;
