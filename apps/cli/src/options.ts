/**
 * The ONE table of options shared by commands, and the strict check that
 * turns an unknown or malformed flag into `E_ARG` (citty itself ignores them).
 */
import type { ArgsDef } from 'citty';
import { SparqError } from '@sparq/tensor';

/** Options every command that runs a model accepts. */
export const modelRunArgs = {
  backend: {
    type: 'string',
    description: 'compute backend: cpu-wasm (WebAssembly SIMD, multi-threaded) or reference (slow float64 oracle)',
    default: 'cpu-wasm',
    valueHint: 'name',
  },
  threads: { type: 'string', description: 'worker threads for cpu-wasm (default: all cores)', valueHint: 'N' },
  tokenizer: {
    type: 'string',
    description: "tokenizer file or folder, overriding the model's own (tokenizer.json, vocab.json+merges.txt, llama2.c .bin)",
    valueHint: 'path',
  },
  offline: { type: 'boolean', description: 'never use the network (also SPARQ_OFFLINE=1 or HF_HUB_OFFLINE=1)' },
} as const satisfies ArgsDef;

/**
 * `--packed` (the default) / `--no-packed` / `--dense` of the commands that run
 * a model (eval, generate). Packed is the default because it is what a sparq
 * container is for: the compressed kernels read ~2–9× fewer weight bytes and
 * never hold an f32 copy; decoding to f32 stays available for comparisons. The
 * same switch keeps a half-precision (f16 / bf16) checkpoint's linears half
 * precision in memory (exact: the backend widens them; `--dense` widens them
 * to f32 at load instead).
 */
export const packedArgs = {
  packed: {
    type: 'boolean',
    default: true,
    description:
      'run weights as stored: sparq containers\' compressed layers on the compressed kernels, f16 / bf16 checkpoints\' linears in half precision; no f32 copy (the default)',
    negativeDescription: 'decode compressed layers and widen f16 / bf16 weights to f32 at load and run the dense f32 kernels',
  },
  dense: {
    type: 'boolean',
    description: 'decode compressed layers and widen f16 / bf16 weights to f32 at load and run the dense f32 kernels (same as --no-packed)',
  },
} as const satisfies ArgsDef;

/** Whether a sparq container's compressed layers run packed: yes unless `--no-packed` or `--dense`. */
export function runPacked(opts: { packed?: boolean | undefined; dense?: boolean | undefined }): boolean {
  return opts.packed !== false && opts.dense !== true;
}

/** Output options of every command. */
export const outputArgs = {
  json: { type: 'boolean', description: 'print the result as JSON on stdout' },
  verbose: { type: 'boolean', description: 'print stack traces of errors' },
} as const satisfies ArgsDef;

/**
 * Rejects flags the command does not define (citty would silently ignore a
 * typo such as `--max-token`), naming the flag and the valid ones.
 */
export function assertKnownFlags(command: string, args: ArgsDef, rawArgs: readonly string[]): void {
  const known = new Set<string>(['help', 'h']);
  const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === 'positional') continue;
    known.add(name);
    known.add(kebab(name));
    if (def.type === 'boolean') known.add(`no-${kebab(name)}`);
    const alias = 'alias' in def ? def.alias : undefined;
    for (const a of alias === undefined ? [] : Array.isArray(alias) ? alias : [alias]) known.add(a);
  }
  for (const raw of rawArgs) {
    if (raw === '--') break;
    if (!raw.startsWith('-') || /^-\d/.test(raw)) continue;
    const name = raw.replace(/^--?/, '').split('=')[0]!;
    if (!known.has(name)) {
      const flags = Object.entries(args)
        .filter(([, d]) => d.type !== 'positional')
        .map(([n]) => `--${kebab(n)}`);
      throw new SparqError('E_ARG', `unknown option ${raw.split('=')[0]} for "sparq ${command}"`, {
        details: { found: raw, expected: flags },
        hint: `valid options: ${flags.join(', ')}; see sparq ${command} --help`,
      });
    }
  }
}

/** Parses an integer option, with a clear error naming the flag. */
export function intArg(flag: string, value: string | undefined, opts: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    const range = `${opts.min ?? '-∞'}…${opts.max ?? '∞'}`;
    throw new SparqError('E_ARG', `--${flag} must be an integer in ${range}, found "${value}"`, {
      details: { expected: range, found: value },
    });
  }
  return n;
}

/** Parses a number option, with a clear error naming the flag. */
export function numberArg(flag: string, value: string | undefined, opts: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    const range = `${opts.min ?? '-∞'}…${opts.max ?? '∞'}`;
    throw new SparqError('E_ARG', `--${flag} must be a number in ${range}, found "${value}"`, {
      details: { expected: range, found: value },
    });
  }
  return n;
}
