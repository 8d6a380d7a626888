/**
 * `sparq plan <model> --ladder … --budget … --out plan.json`: per-layer
 * compression levels under an exact budget — EvoPress search (default), or the
 * uniform / OWL baselines — from a levels database built once per ladder.
 * Apply the result with `sparq compress <model> --plan plan.json --out <dir>`.
 */
import { defineCommand } from 'citty';
import { recipeFromFlags } from '@sparq/compress';
import { loadModel, resolveModelPath } from '@sparq/lm';
import { analyzeGemm, DENSE, parsePattern, readFpgaConfigFile, resolveFpgaConfig } from '@sparq/backend-fpga-sim';
import { parseLadder, planModel, type CostModel, type Level } from '@sparq/planner';
import { readFileSync } from 'node:fs';
import { SparqError } from '@sparq/tensor';
import { openBackend } from '../backends';
import { intArg, modelRunArgs, outputArgs } from '../options';
import { type Io, printResult } from '../output';
import { readRecipeFile, tokenizerFiles } from './compress';
import { workerFitness } from '../fitness-pool';

const args = {
  model: { type: 'positional', description: 'model folder, llama2.c .bin, known name (stories260K) or Hub id', required: true },
  out: { type: 'string', description: 'plan file to write (JSON)', required: true, valueHint: 'file' },
  ladder: {
    type: 'string',
    description: 'levels: sparsity:20-80:10 | sparsity:0,30,50,70 | nm:dense,4:8,2:4,1:4 | bits:2,3,4,8[,16]',
    default: 'sparsity:20-80:10',
    valueHint: 'spec',
  },
  budget: { type: 'string', description: "average sparsity ('50%') or a ladder level whose uniform cost is the budget ('w3', '2:4')", required: true, valueHint: 'B' },
  method: { type: 'string', description: 'evopress (default) | uniform | owl', default: 'evopress', valueHint: 'name' },
  solver: { type: 'string', description: 'database solver: sparsegpt | wanda | magnitude (sparsity/N:M ladders; default sparsegpt), gptq | rtn (bits; default gptq)', valueHint: 'name' },
  group: { type: 'string', description: "bits ladders: quantization group, or 'channel' (default)", valueHint: 'G' },
  recipe: { type: 'string', description: 'base recipe file instead of --solver/--group (its pattern or bits are replaced per level)', valueHint: 'file' },
  db: { type: 'string', description: 'levels database folder (default <out>.levels; reused when it matches)', valueHint: 'dir' },
  report: { type: 'string', description: 'write an SVG of the per-layer levels and the fitness curve', valueHint: 'file.svg' },
  generations: { type: 'string', description: 'EvoPress generations (default 50)', valueHint: 'N' },
  offspring: { type: 'string', description: 'offspring per generation (λ, default 16)', valueHint: 'N' },
  fitnessText: { type: 'string', description: 'text file for fitness tokens (default: sampled from the model)', valueHint: 'file' },
  fitnessSamples: { type: 'string', description: 'fitness sequences (default 16)', valueHint: 'N' },
  fitnessSeqlen: { type: 'string', description: 'tokens per fitness sequence (default 128)', valueHint: 'L' },
  calib: { type: 'string', description: "database calibration: a text file or 'self' (default)", valueHint: 'file|self' },
  samples: { type: 'string', description: 'database calibration sequences (default 128)', valueHint: 'N' },
  seqlen: { type: 'string', description: 'tokens per calibration sequence', valueHint: 'L' },
  seed: { type: 'string', description: 'search and calibration seed (default 0)', valueHint: 'S' },
  cost: {
    type: 'string',
    description:
      "budget cost: 'stored' (kept weights / stored bits, default), 'fpga' (decode latency in cycles of the FPGA simulator) or 'cpu' (decode latency from a CPU kernel benchmark table, --cost-table); fpga and cpu need N:M or bits ladders",
    default: 'stored',
    valueHint: 'model',
  },
  fitness: { type: 'string', description: "EvoPress fitness: 'kl' (KL divergence to the dense model, default) or 'ppl' (the candidate's perplexity of the fitness tokens)", default: 'kl', valueHint: 'kl|ppl' },
  workers: { type: 'string', description: 'score candidates on N worker threads, each with its own model (default 1: in-process)', valueHint: 'N' },
  costTable: {
    type: 'string',
    description: 'with --cost cpu: a compressed-kernel benchmark JSON (bench/compressed.bench.mjs --out; e.g. docs/benchmarks/cpu-cost-table.json, which has every GEMV format)',
    valueHint: 'file',
  },
  fpgaConfig: { type: 'string', description: "with --cost fpga: the simulator's architecture config (JSON; default array)", valueHint: 'file' },
  ...modelRunArgs,
  ...outputArgs,
} as const;

/**
 * Decode latency of each layer at each level on the simulated FPGA array: the
 * analytical cycles of a batch-1 GEMV (1 × in by in × out) with the level's
 * N:M pattern and weight width (INT8 for dense / pruned levels).
 */
function fpgaCostModel(configFile: string | undefined, ladder: string): CostModel {
  if (!ladder.startsWith('nm:') && !ladder.startsWith('bits:')) {
    throw new SparqError('E_ARG', `--cost fpga needs an N:M or bits ladder (the array runs N:M patterns, not unstructured sparsity), found "${ladder}"`, {
      details: { found: ladder, expected: 'nm:… or bits:…' },
    });
  }
  const cfg = configFile ? readFpgaConfigFile(configFile) : resolveFpgaConfig({});
  return {
    name: 'fpga decode cycles',
    cost: (u, l) =>
      analyzeGemm(cfg, {
        shape: { m: 1, k: u.cols, n: u.rows },
        sparsity: l.pattern && !l.pattern.endsWith('%') ? parsePattern(l.pattern) : DENSE,
        weightBits: l.bits ?? 8,
        quantGroupSize: 0,
      }).cycles,
  };
}

/**
 * Decode latency from a CPU kernel benchmark table (the JSON of
 * `bench/compressed.bench.mjs`): each format's measured GEMV time per weight
 * (median over the table's shapes, at `threads`), times the layer's weights,
 * in integer picoseconds. Formats the table did not measure are refused.
 */
function cpuTableCostModel(file: string | undefined, ladder: string, threads: number): CostModel {
  if (!file) throw new SparqError('E_ARG', '--cost cpu needs --cost-table <bench JSON> (e.g. docs/benchmarks/cpu-cost-table.json)');
  if (!ladder.startsWith('nm:') && !ladder.startsWith('bits:')) {
    throw new SparqError('E_ARG', `--cost cpu needs an N:M or bits ladder, found "${ladder}"`, { details: { found: ladder, expected: 'nm:… or bits:…' } });
  }
  let table: { rows?: { case: string; format: string; threads: number; 'median ms': number }[] };
  try {
    table = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SparqError('E_IO', `cannot read cost table ${file}: ${(e as Error).message}`, { details: { file } });
  }
  const perWeight = new Map<string, number[]>();
  for (const r of table.rows ?? []) {
    const m = /^gemv (\d+)x(\d+)$/.exec(r.case);
    if (!m || r.threads !== threads) continue;
    const ns = (r['median ms'] * 1e6) / (Number(m[1]) * Number(m[2]));
    perWeight.set(r.format, [...(perWeight.get(r.format) ?? []), ns]);
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  const formatOf = (l: Level) => (l.dense ? 'dense' : l.bits !== undefined ? `int${l.bits}` : l.pattern!);
  // Fail before the (slow) levels database is built when the table lacks a level's format.
  for (const l of parseLadder(ladder).levels) {
    if (!perWeight.has(formatOf(l))) {
      throw new SparqError('E_ARG', `cost table ${file} has no ${threads}-thread GEMV measurement of format "${formatOf(l)}"`, {
        details: { file, expected: [...perWeight.keys()], found: formatOf(l) },
      });
    }
  }
  return {
    name: `cpu decode ps (${file}, ${threads} threads)`,
    cost: (u, l) => {
      const f = formatOf(l);
      const v = perWeight.get(f);
      if (!v) {
        throw new SparqError('E_ARG', `cost table ${file} has no ${threads}-thread GEMV measurement of format "${f}"`, {
          details: { file, expected: [...perWeight.keys()], found: f },
        });
      }
      return Math.round(u.rows * u.cols * median(v) * 1000);
    },
  };
}

/** Builds the command (the Io is injected for tests). */
export function planCommand(io: Io) {
  return defineCommand({
    meta: { name: 'plan', description: 'search per-layer sparsity / bit-widths under an exact budget (EvoPress, uniform or OWL)' },
    args,
    async run({ args: a }) {
      const method = String(a.method);
      if (!['evopress', 'uniform', 'owl'].includes(method)) {
        throw new SparqError('E_ARG', `--method must be evopress, uniform or owl, found "${method}"`, { details: { expected: ['evopress', 'uniform', 'owl'], found: method } });
      }
      const bitsLadder = String(a.ladder).startsWith('bits:');
      const calibFlags = {
        ...(a.calib !== undefined ? { calib: String(a.calib) } : {}),
        ...(a.samples !== undefined ? { samples: intArg('samples', a.samples, { min: 1 })! } : {}),
        ...(a.seqlen !== undefined ? { seqlen: intArg('seqlen', a.seqlen, { min: 2 })! } : {}),
        ...(a.seed !== undefined ? { seed: intArg('seed', a.seed, { min: 0 })! } : {}),
      };
      let recipe;
      if (a.recipe !== undefined) {
        recipe = await readRecipeFile(String(a.recipe), calibFlags);
      } else if (bitsLadder) {
        const g = a.group === undefined || a.group === 'channel' ? -1 : intArg('group', a.group, { min: 1 })!;
        recipe = recipeFromFlags({ quant: a.solver ?? 'gptq', bits: 4, group: g, ...calibFlags });
      } else {
        recipe = recipeFromFlags({ prune: a.solver ?? 'sparsegpt', pattern: '50%', ...calibFlags });
      }
      const cost = String(a.cost);
      if (cost !== 'stored' && cost !== 'fpga' && cost !== 'cpu') {
        throw new SparqError('E_ARG', `--cost must be stored, fpga or cpu, found "${cost}"`, { details: { expected: ['stored', 'fpga', 'cpu'], found: cost } });
      }
      const workers = intArg('workers', a.workers, { min: 1, max: 64 }) ?? 1;
      const fitness = String(a.fitness);
      if (fitness !== 'kl' && fitness !== 'ppl') {
        throw new SparqError('E_ARG', `--fitness must be kl or ppl, found "${fitness}"`, { details: { expected: ['kl', 'ppl'], found: fitness } });
      }
      const costModel =
        cost === 'fpga'
          ? fpgaCostModel(a.fpgaConfig, String(a.ladder))
          : cost === 'cpu'
            ? cpuTableCostModel(a.costTable, String(a.ladder), intArg('threads', a.threads, { min: 1, max: 256 }) ?? 2)
            : undefined;
      const resolved = await resolveModelPath(a.model, a.offline ? { offline: true } : {});
      const backend = await openBackend(a.backend, intArg('threads', a.threads, { min: 1, max: 256 }));
      try {
        const { model, tokenizer } = await loadModel(resolved.path, { backend, ...(a.tokenizer ? { tokenizer: a.tokenizer } : {}) });
        try {
          const r = await planModel({
            model,
            modelPath: resolved.path,
            tokenizer,
            tokenizerFiles: tokenizerFiles(resolved.path, a.tokenizer),
            recipe,
            ladder: String(a.ladder),
            budget: String(a.budget),
            method: method as 'evopress' | 'uniform' | 'owl',
            db: a.db ?? `${a.out}.levels`,
            out: a.out,
            ...(a.report ? { report: a.report } : {}),
            ...(a.generations ? { generations: intArg('generations', a.generations, { min: 0 })! } : {}),
            ...(a.offspring ? { offspring: intArg('offspring', a.offspring, { min: 1 })! } : {}),
            ...(a.fitnessText ? { fitnessText: a.fitnessText } : {}),
            ...(a.fitnessSamples ? { fitnessSamples: intArg('fitness-samples', a.fitnessSamples, { min: 1 })! } : {}),
            ...(a.fitnessSeqlen ? { fitnessSeqlen: intArg('fitness-seqlen', a.fitnessSeqlen, { min: 2 })! } : {}),
            ...(a.seed ? { seed: intArg('seed', a.seed, { min: 0 })! } : {}),
            ...(costModel ? { costModel } : {}),
            fitnessMetric: fitness === 'ppl' ? 'nll' : 'kl',
            ...(workers > 1 ? { fitnessFactory: workerFitness(workers, resolved.path, a.tokenizer) } : {}),
            onProgress: (line) => io.stderr(`${line}\n`),
          });
          printResult(io, Boolean(a.json), r.plan, () => {
            const lines = [
              `${r.plan.method} plan · ${r.plan.budget.label} · ladder ${r.plan.ladder}`,
              `achieved: cost ${r.plan.achieved.cost} (budget ${r.plan.budget.total}), average sparsity ${(100 * r.plan.achieved.averageSparsity).toFixed(2)}%` +
                (r.plan.achieved.bitsPerWeight !== undefined ? `, ${r.plan.achieved.bitsPerWeight.toFixed(3)} bits/weight` : ''),
            ];
            if (r.plan.fitness) {
              lines.push(`fitness (${r.plan.fitness.metric === 'nll' ? 'mean NLL' : 'KL'}): ${r.plan.fitness.history[0]!.toPrecision(5)} → ${r.plan.fitness.value.toPrecision(5)} in ${r.plan.fitness.evaluations} evaluations (${r.evaluationsPerSecond?.toFixed(1)} /s)`);
            }
            lines.push('', ...r.plan.units.map((u) => `${u.level.padStart(6)}  ${u.name}`), '', `wrote ${a.out}; apply with: sparq compress ${a.model} --plan ${a.out} --out <dir>`);
            return lines.join('\n');
          });
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
export const planArgs = args;
