/**
 * The layer-by-layer compression driver (the sequential protocol of
 * SparseGPT / GPTQ / Wanda): calibration hidden states walk the model one
 * block at a time; inside a block each group of linears that share an input
 * (q/k/v, o, gate/up, down) gets its input statistics from the block as
 * compressed so far ("true-sequential"), is solved, and is replaced by its
 * compressed weight; the block's outputs are then recomputed with every
 * compressed weight and become the next block's inputs. Memory holds one
 * block, the calibration activations and one statistics accumulator.
 * After each block its result is persisted, so an interrupted run resumes.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CausalLM, Tokenizer } from '@sparq/lm';
import { CalibrationStats, SparqError, Tensor } from '@sparq/tensor';
import { sampleSelfCalibration, sampleTextCalibration, type CalibrationData } from './calibration';
import { relativeReconstructionError, type CompressedLinear } from './compressed-linear';
import { outputHfConfig } from './hf-config-out';
import { accountLinear } from './pack';
import type { ModelWriter } from './output';
import { sparqContainerWriter } from './output-container';
import { planCompression, type CompressionPlan, type LinearShape } from './plan';
import type { Recipe } from './recipe';
import { solveLinear, type LinearStats } from './solve';
import { WorkDir, type LinearReport, type RunState } from './work-dir';

/** Progress of {@link compressModel}. */
export type CompressProgress =
  | { phase: 'calibration'; done: number; total: number }
  | { phase: 'replay'; block: number; blocks: number }
  | { phase: 'block'; block: number; blocks: number; linear: string; elapsedSeconds: number; etaSeconds: number | undefined }
  | { phase: 'block-done'; block: number; blocks: number; elapsedSeconds: number; etaSeconds: number; rssBytes: number }
  | { phase: 'write'; done: number; total: number };

/** Options of {@link compressModel}. */
export interface CompressOptions {
  /** The model, loaded lazily (`loadModel(path, { backend, lazy: true })`): blocks are loaded one at a time. */
  model: CausalLM;
  tokenizer: Tokenizer;
  recipe: Recipe;
  /** Output folder; must not exist yet. Its resume folder is `<out>.sparq-tmp`. */
  out: string;
  /**
   * Calibration sequences made beforehand with {@link buildCalibration} for this
   * recipe (e.g. reused across runs that share calibration settings); must
   * match `recipe.calibration` (source, samples, seqlen, seed).
   */
  calibration?: CalibrationData;
  /** Tokenizer files to copy beside the output weights so the folder loads on its own. */
  tokenizerFiles?: readonly string[];
  /** Output format (default: the sparq container, packed). */
  writer?: ModelWriter;
  /** Resume an interrupted run of the same arguments (default true); false deletes it and starts over. */
  resume?: boolean;
  /**
   * `always` (default): collect input statistics for every compressed linear, so even data-free methods (magnitude,
   * RTN) get an output reconstruction error. `needed`: only where a solver needs them (skips the calibration passes of
   * data-free groups — their `relError` is null); for large models where the `O(tokens·cols²)` statistics dominate.
   */
  errorStats?: 'always' | 'needed';
  /** Checked after each completed (persisted) block; an aborted run resumes later from there. */
  signal?: AbortSignal;
  /** Called after block `i` is persisted (before the abort check). */
  onBlockDone?(i: number): void;
  onProgress?(p: CompressProgress): void;
}

/** What {@link compressModel} returns (also written as `sparq-compress.json` in the output). */
export interface CompressReport {
  out: string;
  output: ModelWriter['kind'];
  model: { path: string; architecture: string; blocks: number };
  backend: string;
  recipe: Recipe;
  /** How the calibration sequences were made (ids omitted). */
  calibration: Omit<CalibrationData, 'ids'>;
  linears: LinearReport[];
  /** Linears left dense. */
  dense: string[];
  warnings: string[];
  totals: {
    compressedLinears: number;
    /** Weights of the compressed linears. */
    compressedWeights: number;
    /** Pruned fraction over the pruned linears' weights (undefined when nothing is pruned). */
    sparsity: number | undefined;
    /** Weighted mean of `relError` by each layer's weight count, over the layers that have one (null if none). */
    meanRelError: number | null;
    /** Wall time including earlier interrupted sessions, seconds. */
    seconds: number;
    /** Peak resident set size of this process, bytes (`process.resourceUsage().maxRSS`). */
    peakRssBytes: number;
  };
  /** First block computed in this session (> 0 when resumed). */
  resumedFromBlock: number;
}

/** Thrown from the linear-input hook to stop a block once the wanted input was captured. */
const STOP = Symbol('sparq.compress.stop');

/** The linears of a model with shapes from the weight headers; unsupported layouts are `E_CONFIG`. */
export function modelLinears(model: CausalLM): LinearShape[] {
  return model.linearNames().map((name) => {
    const w = `${name}.weight`;
    if (!model.source.has(w) || model.source.info(w).shape.length !== 2) {
      throw new SparqError('E_CONFIG', `compress: linear ${name} is not stored as "${w}" [out, in] (architecture ${model.config.architecture})`, {
        details: { tensor: w, expected: '[out, in] tensor named <linear>.weight' },
        hint: 'compress supports LLaMA, Mistral, Qwen2 and OPT checkpoints; GPT-2 (Conv1D, fused c_attn) is not supported yet',
      });
    }
    const [rows, cols] = model.source.info(w).shape as [number, number];
    return { name, rows, cols };
  });
}

async function fingerprint(model: CausalLM, recipe: Recipe): Promise<string> {
  const h = createHash('sha256');
  const tensors = model.source.names().map((n) => {
    const i = model.source.info(n);
    return [n, i.dtype, i.shape];
  });
  h.update(JSON.stringify({ v: 1, model: resolve(model.source.path), tensors, recipe, backend: model.backend.name }));
  if (recipe.calibration.source !== 'self') h.update(await readCalibrationText(recipe.calibration.source));
  return h.digest('hex');
}

async function readCalibrationText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new SparqError('E_IO', `cannot read calibration text ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      details: { file },
      hint: 'pass a UTF-8 text file, or self to sample calibration text from the model',
      cause: e,
    });
  }
}

/** Builds the calibration sequences the recipe asks for (before any weight changes). */
export async function buildCalibration(model: CausalLM, tokenizer: Tokenizer, recipe: Recipe, onProgress?: (p: { done: number; total: number }) => void): Promise<CalibrationData> {
  const c = recipe.calibration;
  const seqlen = c.seqlen ?? Math.min(model.config.maxPositions, 2048);
  const o = { samples: c.samples, seqlen, seed: c.seed };
  if (c.source === 'self') return sampleSelfCalibration(model, tokenizer, o, onProgress);
  return sampleTextCalibration(tokenizer, await readCalibrationText(c.source), o, c.source, model.config.maxPositions);
}

/** Throws `E_ARG` when precomputed calibration data does not match the recipe's settings. */
function checkCalibration(c: CalibrationData, recipe: Recipe, model: CausalLM): void {
  const want = recipe.calibration;
  const seqlen = want.seqlen ?? Math.min(model.config.maxPositions, 2048);
  const source = want.source === 'self' ? 'self' : 'text';
  const ok =
    c.source === source &&
    (source === 'self' || c.file === want.source) &&
    c.samples === want.samples &&
    c.seqlen === seqlen &&
    c.seed === want.seed &&
    c.ids.length === c.samples &&
    c.ids.every((s) => s.length === seqlen && s.every((id) => Number.isInteger(id) && id >= 0 && id < model.config.vocabSize));
  if (!ok) {
    throw new SparqError('E_ARG', 'the calibration data given does not match the recipe (source, samples, seqlen, seed) or the model vocabulary', {
      details: { expected: { source: want.source, samples: want.samples, seqlen, seed: want.seed }, found: { source: c.file ?? c.source, samples: c.samples, seqlen: c.seqlen, seed: c.seed } },
    });
  }
}

/** Calibration hidden states, `batchSize` sequences per tensor. */
type Hidden = Tensor<'f32'>[];

async function embedAll(model: CausalLM, calib: CalibrationData, batchSize: number): Promise<Hidden> {
  const out: Hidden = [];
  for (let s = 0; s < calib.ids.length; s += batchSize) out.push(await model.embed(calib.ids.slice(s, s + batchSize)));
  return out;
}

async function runAll(model: CausalLM, i: number, hidden: Hidden): Promise<Hidden> {
  const out: Hidden = [];
  for (const h of hidden) out.push(await model.runBlock(i, h));
  return out;
}

/**
 * Groups of block `i`'s linears that read one input tensor, in execution
 * order (LLaMA: [q,k,v], [o], [gate,up], [down]), found by running the block
 * on two tokens and comparing the hook's tensors by identity.
 */
async function inputGroups(model: CausalLM, i: number, probe: Tensor<'f32'>): Promise<string[][]> {
  const groups: string[][] = [];
  let last: Tensor<'f32'> | undefined;
  await model.runBlock(i, probe, {
    onLinearInput: (name, x) => {
      if (x === last) groups[groups.length - 1]!.push(name);
      else groups.push([name]);
      last = x;
    },
  });
  return groups;
}

/** Streams the input of linear `first` over every calibration batch into fresh statistics, stopping each pass there. */
async function collectStats(model: CausalLM, i: number, first: string, cols: number, hidden: Hidden): Promise<LinearStats> {
  const stats = new CalibrationStats(cols);
  for (const h of hidden) {
    try {
      await model.runBlock(i, h, {
        onLinearInput: (name, x) => {
          if (name !== first) return;
          stats.addBatch(x.data, x.shape[0]!);
          // Nothing after this linear's input matters for its statistics: skip the rest of the block.
          throw STOP;
        },
      });
    } catch (e) {
      if (e !== STOP) throw e;
    }
  }
  return stats.result();
}

function weightRelError(w: Float64Array, what: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < w.length; k++) {
    const d = w[k]! - what[k]!;
    num += d * d;
    den += w[k]! * w[k]!;
  }
  return den > 0 ? num / den : 0;
}

function linearReport(c: CompressedLinear, block: number, w: Float64Array, stats: LinearStats | undefined, seconds: number): LinearReport {
  let zeros = 0;
  for (let k = 0; k < c.weight.length; k++) if (c.weight[k] === 0) zeros++;
  const r: LinearReport = {
    name: c.name,
    block,
    rows: c.rows,
    cols: c.cols,
    method: c.method,
    zeroFraction: zeros / c.weight.length,
    bitsPerWeight: accountLinear(c).bitsPerWeight,
    relError: stats ? relativeReconstructionError(w, c.weight, stats.hessian, c.rows, c.cols) : null,
    weightRelError: weightRelError(w, c.weight),
    seconds,
  };
  if (c.mask) {
    let pruned = 0;
    for (let k = 0; k < c.mask.length; k++) pruned += c.mask[k]!;
    r.pattern = c.pattern!;
    r.sparsity = pruned / c.mask.length;
  }
  const bits = c.quant?.bits ?? (c.spqr?.bits as number | undefined);
  if (bits !== undefined) r.bits = bits;
  const gs = c.quant?.groupSize ?? (c.spqr?.groupSize as number | undefined);
  if (gs !== undefined) r.groupSize = gs;
  return r;
}

/** Compresses block `i` in place (weights replaced in `model`); returns its compressed linears and reports. */
async function compressBlock(
  model: CausalLM,
  i: number,
  plan: CompressionPlan,
  hidden: Hidden,
  errorStats: 'always' | 'needed',
  onLinear: (name: string) => void,
): Promise<{ linears: CompressedLinear[]; reports: LinearReport[] }> {
  const probe = new Tensor('f32', [1, 2, model.config.hiddenSize], hidden[0]!.data.slice(0, 2 * model.config.hiddenSize));
  const linears: CompressedLinear[] = [];
  const reports: LinearReport[] = [];
  for (const group of await inputGroups(model, i, probe)) {
    const todo = group.filter((n) => plan.linears.has(n));
    if (todo.length === 0) continue;
    // By default statistics are always collected: even data-free solvers (magnitude, RTN) get an output-error report.
    const wanted = errorStats === 'always' || todo.some((n) => plan.linears.get(n)!.needs !== 'none');
    const stats = wanted ? await collectStats(model, i, group[0]!, plan.linears.get(todo[0]!)!.cols, hidden) : undefined;
    for (const name of todo) {
      onLinear(name);
      const p = plan.linears.get(name)!;
      const t0 = performance.now();
      const w = Float64Array.from((await model.getLinearWeight(name)).data);
      const sd = model.source.info(`${name}.weight`).dtype;
      const c = solveLinear(p, w, stats, { valueDtype: sd === 'f16' || sd === 'bf16' ? sd : 'f32' }).linear;
      const seconds = (performance.now() - t0) / 1000;
      await model.setLinearWeight(name, new Tensor('f32', [p.rows, p.cols], c.weight));
      linears.push(c);
      reports.push(linearReport(c, i, w, stats, seconds));
    }
  }
  return { linears, reports };
}

async function assertOutputFree(out: string): Promise<void> {
  try {
    await stat(out);
  } catch {
    return;
  }
  throw new SparqError('E_ARG', `output ${out} already exists`, {
    details: { file: out },
    hint: 'choose another --out or delete it (an interrupted run resumes from its .sparq-tmp folder, not from the output)',
  });
}

/**
 * Compresses `model` per `recipe` into the folder `out` and returns the
 * report. See the module comment for the protocol. Resume: block results
 * and `state.json` live in `<out>.sparq-tmp/`; a run with the same model,
 * recipe, calibration text and backend continues after the last completed
 * block (recomputing calibration activations through the stored blocks),
 * and produces bit for bit the output of an uninterrupted run.
 * @example
 * const { model, tokenizer } = await loadModel('stories260K/hf', { backend, tokenizer: 'tok512.bin', lazy: true });
 * const recipe = parseRecipe('stages: [{ type: prune, method: sparsegpt, pattern: "2:4" }]');
 * const report = await compressModel({ model, tokenizer, recipe, out: 'out/s260k-24', tokenizerFiles: ['tok512.bin'] });
 */
export async function compressModel(o: CompressOptions): Promise<CompressReport> {
  const t0 = performance.now();
  const { model, recipe } = o;
  const writer = o.writer ?? sparqContainerWriter;
  await assertOutputFree(o.out);
  const linearShapes = modelLinears(model);
  const plan = planCompression(recipe, linearShapes);
  const config = await outputHfConfig(model.source, model.config);
  const fp = await fingerprint(model, recipe);
  const { work, state: prior } = await WorkDir.open(o.out, fp, o.resume ?? true);
  // Seconds spent by earlier, interrupted sessions of this run.
  const priorSeconds = prior?.priorSeconds ?? 0;
  const spent = () => priorSeconds + (performance.now() - t0) / 1000;

  let calibration: CalibrationData;
  let state: RunState;
  if (prior) {
    calibration = prior.calibration;
    state = prior;
  } else {
    calibration = o.calibration ?? (await buildCalibration(model, o.tokenizer, recipe, (p) => o.onProgress?.({ phase: 'calibration', ...p })));
    checkCalibration(calibration, recipe, model);
    state = { version: 1, fingerprint: fp, completedBlocks: 0, calibration, reports: [], priorSeconds: 0 };
    await work.saveState(state);
  }
  const blocks = model.numBlocks;
  const resumedFrom = state.completedBlocks;
  let hidden = await embedAll(model, calibration, recipe.calibration.batchSize);

  // Resume: replay the stored blocks to rebuild the activations the next block sees.
  for (let i = 0; i < resumedFrom; i++) {
    o.onProgress?.({ phase: 'replay', block: i, blocks });
    for (const c of await work.readBlock(i)) await model.setLinearWeight(c.name, new Tensor('f32', [c.rows, c.cols], c.weight));
    hidden = await runAll(model, i, hidden);
    model.unloadBlock(i, { discardOverrides: true });
  }

  const sessionStart = performance.now();
  for (let i = resumedFrom; i < blocks; i++) {
    const elapsed = () => (performance.now() - sessionStart) / 1000;
    const done = i - resumedFrom;
    const eta = done > 0 ? (elapsed() / done) * (blocks - i) : undefined;
    const { linears, reports } = await compressBlock(model, i, plan, hidden, o.errorStats ?? 'always', (linear) =>
      o.onProgress?.({ phase: 'block', block: i, blocks, linear, elapsedSeconds: elapsed(), etaSeconds: eta }),
    );
    hidden = await runAll(model, i, hidden);
    await work.writeBlock(i, linears);
    state = { ...state, completedBlocks: i + 1, reports: [...state.reports, ...reports], priorSeconds: spent() };
    await work.saveState(state);
    // The block is persisted: drop its weights *and* the replacements, so memory stays one block.
    model.unloadBlock(i, { discardOverrides: true });
    o.onProgress?.({
      phase: 'block-done',
      block: i,
      blocks,
      elapsedSeconds: elapsed(),
      etaSeconds: (elapsed() / (i + 1 - resumedFrom)) * (blocks - i - 1),
      rssBytes: process.memoryUsage().rss,
    });
    o.onBlockDone?.(i);
    o.signal?.throwIfAborted();
  }

  const compressed = new Map<string, number>();
  for (const r of state.reports) compressed.set(`${r.name}.weight`, r.block);
  const report = makeReport(o, model, plan, calibration, state, resumedFrom, writer.kind, spent());
  const tmpOut = `${work.dir}/output`;
  await rm(tmpOut, { recursive: true, force: true });
  await writer.write({
    dir: tmpOut,
    config,
    tokenizerFiles: o.tokenizerFiles ?? [],
    source: model.source,
    blocks,
    compressed,
    readBlock: (i) => work.readBlock(i),
    report,
    onProgress: (p) => o.onProgress?.({ phase: 'write', ...p }),
  });
  await assertOutputFree(o.out);
  try {
    await rename(tmpOut, o.out);
  } catch (e) {
    throw new SparqError('E_IO', `cannot move the finished output to ${o.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      details: { file: o.out },
      hint: `the complete output is in ${tmpOut}`,
      cause: e,
    });
  }
  await work.remove();
  return report;
}

function makeReport(
  o: CompressOptions,
  model: CausalLM,
  plan: CompressionPlan,
  calibration: CalibrationData,
  state: RunState,
  resumedFrom: number,
  output: ModelWriter['kind'],
  seconds: number,
): CompressReport {
  const { ids: _ids, ...calib } = calibration;
  let weights = 0;
  let prunedW = 0;
  let pruned = 0;
  let err = 0;
  let errWeights = 0;
  for (const r of state.reports) {
    const n = r.rows * r.cols;
    weights += n;
    if (r.relError !== null) {
      err += r.relError * n;
      errWeights += n;
    }
    if (r.sparsity !== undefined) {
      prunedW += n;
      pruned += r.sparsity * n;
    }
  }
  return {
    out: o.out,
    output,
    model: { path: model.source.path, architecture: model.config.architecture, blocks: model.numBlocks },
    backend: model.backend.name,
    recipe: o.recipe,
    calibration: calib,
    linears: state.reports,
    dense: plan.dense,
    warnings: plan.warnings,
    totals: {
      compressedLinears: state.reports.length,
      compressedWeights: weights,
      sparsity: prunedW > 0 ? pruned / prunedW : undefined,
      meanRelError: errWeights > 0 ? err / errWeights : null,
      seconds,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    },
    resumedFromBlock: resumedFrom,
  };
}
