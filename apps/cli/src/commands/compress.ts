/**
 * `sparq compress <model> (--recipe <file> | --prune … --quant …) --out <dir>`:
 * prune and/or quantize a model block by block with calibration data and
 * write a loadable output folder (sparq container, or an HF folder of the
 * decoded weights). Progress on stderr; the report on stdout.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { defineCommand } from 'citty';
import {
  compressModel,
  hasStageFlags,
  hfFolderWriter,
  parseRecipe,
  recipeFromFlags,
  sparqContainerWriter,
  withCalibrationFlags,
  type CompressProgress,
  type CompressReport,
  type Recipe,
  type RecipeFlags,
} from '@sparq/compress';
import { findTokenizerInFolder, loadModel, resolveModelPath } from '@sparq/lm';
import { planRecipe, readPlan } from '@sparq/planner';
import { SparqError } from '@sparq/tensor';
import { openBackend } from '../backends';
import { intArg, modelRunArgs, outputArgs } from '../options';
import { type Io, createProgress, printResult } from '../output';

const args = {
  model: { type: 'positional', description: 'model folder, llama2.c .bin, known name (stories260K) or Hub id', required: true },
  out: { type: 'string', description: 'output folder (must not exist; an interrupted run resumes from <out>.sparq-tmp)', required: true, valueHint: 'dir' },
  recipe: { type: 'string', description: 'recipe file (YAML or JSON): stages, targets/ignore, per-layer overrides, calibration', valueHint: 'file' },
  plan: { type: 'string', description: 'plan file from `sparq plan`: its base recipe with every layer at its planned level', valueHint: 'file' },
  prune: { type: 'string', description: 'pruning method: magnitude | wanda | sparsegpt', valueHint: 'method' },
  pattern: { type: 'string', description: "sparsity: fraction pruned ('50%', '0.5') or N:M, N kept of every M ('2:4', '4:8')", valueHint: 'P' },
  quant: { type: 'string', description: 'quantization method: rtn | gptq | spqr', valueHint: 'method' },
  bits: { type: 'string', description: 'code bits: 2 | 3 | 4 | 8 (default 4; spqr 3)', valueHint: 'B' },
  group: { type: 'string', description: "columns per quantization group, or 'channel' (default; spqr 16). Must divide every layer's input", valueHint: 'G' },
  sym: { type: 'boolean', description: 'symmetric quantization grid (default asymmetric)' },
  actOrder: { type: 'boolean', description: 'GPTQ/SpQR: quantize columns by decreasing Hessian diagonal (with groups: static groups)' },
  joint: { type: 'boolean', description: 'prune (sparsegpt) and quantize in one SparseGPT pass' },
  calib: { type: 'string', description: "calibration: a text file, or 'self' (sampled from the model; default)", valueHint: 'file|self' },
  samples: { type: 'string', description: 'calibration sequences (default 128)', valueHint: 'N' },
  seqlen: { type: 'string', description: 'tokens per calibration sequence (default: model context, at most 2048)', valueHint: 'L' },
  seed: { type: 'string', description: 'calibration seed (default 0)', valueHint: 'S' },
  format: { type: 'string', description: "output: 'container' (packed sparq container, default) or 'hf' (HF folder of decoded f32 weights)", default: 'container', valueHint: 'kind' },
  resume: { type: 'boolean', description: 'resume an interrupted run of the same arguments (default); --no-resume starts over', default: true },
  errorStats: {
    type: 'string',
    description: "'always' (default): report every layer's output error; 'needed': collect input statistics only where a solver needs them (faster for magnitude/RTN on large models)",
    default: 'always',
    valueHint: 'when',
  },
  ...modelRunArgs,
  ...outputArgs,
} as const;

/** The tokenizer file(s) a model uses, to copy beside the output weights. */
export function tokenizerFiles(modelPath: string, override: string | undefined): string[] {
  let tok = override;
  if (tok !== undefined && statSync(tok, { throwIfNoEntry: false })?.isDirectory()) tok = findTokenizerInFolder(tok);
  // As loadModel finds it: in the model folder, or beside a llama2.c .bin (tokenizer.bin or a single tok<N>.bin).
  if (tok === undefined) tok = findTokenizerInFolder(statSync(modelPath).isDirectory() ? modelPath : dirname(modelPath));
  if (tok === undefined) return [];
  const dir = dirname(tok);
  const name = basename(tok);
  const withSiblings = (names: string[]) => [tok!, ...names.map((n) => join(dir, n)).filter((p) => existsSync(p) && p !== tok)];
  if (name === 'tokenizer.json') return withSiblings(['tokenizer_config.json', 'special_tokens_map.json']);
  if (name === 'vocab.json' || name === 'merges.txt') return withSiblings(['vocab.json', 'merges.txt']);
  return [tok];
}

function groupArg(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'channel' || v === '-1') return -1;
  return intArg('group', v, { min: 1 });
}

/** The recipe from --recipe or the shorthand flags; calibration flags override the recipe's. */
async function buildRecipe(a: Record<string, unknown>): Promise<Recipe> {
  const flags: RecipeFlags = {
    ...(a.prune !== undefined ? { prune: String(a.prune) } : {}),
    ...(a.pattern !== undefined ? { pattern: String(a.pattern) } : {}),
    ...(a.quant !== undefined ? { quant: String(a.quant) } : {}),
    ...(a.bits !== undefined ? { bits: intArg('bits', String(a.bits))! } : {}),
    ...(a.group !== undefined ? { group: groupArg(String(a.group))! } : {}),
    ...(a.sym ? { sym: true } : {}),
    ...(a.actOrder ? { actOrder: true } : {}),
    ...(a.joint ? { joint: true } : {}),
    ...(a.calib !== undefined ? { calib: String(a.calib) } : {}),
    ...(a.samples !== undefined ? { samples: intArg('samples', String(a.samples), { min: 1 })! } : {}),
    ...(a.seqlen !== undefined ? { seqlen: intArg('seqlen', String(a.seqlen), { min: 2 })! } : {}),
    ...(a.seed !== undefined ? { seed: intArg('seed', String(a.seed), { min: 0 })! } : {}),
  };
  if (a.plan !== undefined) {
    if (a.recipe !== undefined || hasStageFlags(flags)) {
      throw new SparqError('E_ARG', '--plan cannot be combined with --recipe or --prune/--pattern/--quant/--bits/--group/--sym/--act-order/--joint', {
        hint: 'the plan carries its recipe; --calib, --samples, --seqlen and --seed may override its calibration',
      });
    }
    return withCalibrationFlags(planRecipe(await readPlan(String(a.plan))), flags);
  }
  if (a.recipe === undefined) return recipeFromFlags(flags);
  if (hasStageFlags(flags)) {
    throw new SparqError('E_ARG', '--recipe cannot be combined with --prune/--pattern/--quant/--bits/--group/--sym/--act-order/--joint', {
      hint: 'put the stages in the recipe file; --calib, --samples, --seqlen and --seed may override its calibration',
    });
  }
  return readRecipeFile(String(a.recipe), flags);
}

/** Reads and validates a recipe file (YAML or JSON); calibration flags override its calibration. */
export async function readRecipeFile(file: string, flags: RecipeFlags): Promise<Recipe> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SparqError('E_IO', `cannot read recipe ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { details: { file }, cause: e });
  }
  return withCalibrationFlags(parseRecipe(text, file), flags);
}

function fmtSeconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '?';
  return s < 60 ? `${s.toFixed(0)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** Progress lines on stderr: calibration and writing as counters, blocks with layer, elapsed time, ETA and RSS. */
function progressPrinter(io: Io): (p: CompressProgress) => void {
  const calib = createProgress(io, 'calibration', 'sequences');
  const write = createProgress(io, 'write', 'tensors');
  return (p) => {
    if (p.phase === 'calibration') calib(p);
    else if (p.phase === 'write') write(p);
    else if (p.phase === 'replay') io.stderr(`resume: replaying stored block ${p.block + 1}/${p.blocks}\n`);
    else if (p.phase === 'block') io.stderr(`block ${p.block + 1}/${p.blocks} · ${p.linear} · ${fmtSeconds(p.elapsedSeconds)} elapsed · ETA ${fmtSeconds(p.etaSeconds)}\n`);
    else io.stderr(`block ${p.block + 1}/${p.blocks} done · ${fmtSeconds(p.elapsedSeconds)} elapsed · ETA ${fmtSeconds(p.etaSeconds)} · RSS ${(p.rssBytes / 2 ** 20).toFixed(0)} MiB\n`);
  };
}

function humanReport(r: CompressReport): string {
  const rows = r.linears.map((l) =>
    [
      l.name,
      l.method,
      l.sparsity === undefined ? '-' : `${(100 * l.sparsity).toFixed(1)}%`,
      l.bitsPerWeight.toFixed(3),
      l.relError === null ? '-' : l.relError.toExponential(3),
      `${l.seconds.toFixed(2)}s`,
    ].join('  '),
  );
  const t = r.totals;
  return [
    'layer  method  sparsity  bits/weight  rel.err ‖WX−ŴX‖²/‖WX‖²  time',
    ...rows,
    `${t.compressedLinears} linears compressed${r.dense.length ? `, ${r.dense.length} left dense` : ''} · mean rel.err ${t.meanRelError === null ? '-' : t.meanRelError.toExponential(3)}${t.sparsity === undefined ? '' : ` · sparsity ${(100 * t.sparsity).toFixed(2)}%`}`,
    `calibration: ${r.calibration.description}`,
    `output ${r.out} (${r.output}) · backend ${r.backend} · ${fmtSeconds(t.seconds)} · peak RSS ${(t.peakRssBytes / 2 ** 20).toFixed(0)} MiB${r.resumedFromBlock ? ` · resumed at block ${r.resumedFromBlock + 1}` : ''}`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

/** Builds the command (the Io is injected for tests). */
export function compressCommand(io: Io) {
  return defineCommand({
    meta: { name: 'compress', description: 'prune and/or quantize a model layer by layer into a new model folder' },
    args,
    async run({ args: a }) {
      const recipe = await buildRecipe(a as Record<string, unknown>);
      const format = String(a.format);
      if (format !== 'container' && format !== 'hf') {
        throw new SparqError('E_ARG', `--format must be container or hf, found "${format}"`, { details: { expected: ['container', 'hf'], found: format } });
      }
      const errorStats = String(a.errorStats);
      if (errorStats !== 'always' && errorStats !== 'needed') {
        throw new SparqError('E_ARG', `--error-stats must be always or needed, found "${errorStats}"`, { details: { expected: ['always', 'needed'], found: errorStats } });
      }
      const resolved = await resolveModelPath(a.model, {
        ...(a.offline ? { offline: true } : {}),
        onDownload: (file, i, n) => io.stderr(`downloading ${file} (${i + 1}/${n})\n`),
      });
      const backend = await openBackend(a.backend, intArg('threads', a.threads, { min: 1, max: 256 }));
      try {
        // Lazy: blocks are read one at a time, so memory holds one block plus the calibration activations.
        const { model, tokenizer } = await loadModel(resolved.path, { backend, lazy: true, ...(a.tokenizer ? { tokenizer: a.tokenizer } : {}) });
        try {
          const report = await compressModel({
            model,
            tokenizer,
            recipe,
            out: a.out,
            tokenizerFiles: tokenizerFiles(resolved.path, a.tokenizer),
            writer: format === 'hf' ? hfFolderWriter : sparqContainerWriter,
            resume: a.resume !== false,
            errorStats,
            onProgress: progressPrinter(io),
          });
          printResult(io, Boolean(a.json), report, () => humanReport(report));
        } finally {
          await model.dispose();
        }
      } finally {
        await backend.dispose();
      }
    },
  });
}

/** The args table, for the CLI reference and the strict flag check. */
export const compressArgs = args;
