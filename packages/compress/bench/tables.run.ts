/**
 * stories260K compression measurements behind docs/benchmarks/pruning.md and
 * docs/benchmarks/quantization.md. Run with `pnpm bench` in packages/compress
 * (vitest is only the TypeScript runner here; `pnpm test` never includes this).
 *
 * Every recipe in bench/recipes/*.yaml is run exactly as
 *   sparq compress <shared>/models/stories260K/hf --tokenizer tok512.bin \
 *     --recipe bench/recipes/<name>.yaml --calib self --samples 128 --seqlen 128 --seed 0 --out <dir>
 * would run it (same library calls, cpu-wasm backend), then the container is
 * evaluated as `sparq eval <dir> --text tinystories_sample.txt --doc-separator '<|endoftext|>'`.
 * Environment: SPARQ_BENCH_ONLY=name,name (subset), SPARQ_BENCH_QUICK=1 (8 × 64
 * calibration, smoke test), SPARQ_BENCH_CALIB / _SAMPLES / _SEQLEN / _SEED
 * (calibration; default self, 128 × 128, seed 0), SPARQ_BENCH_OUT (JSON path, default
 * ../../docs/benchmarks/compress-stories260k.json), SPARQ_SHARED.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { openSparqContainer } from '@sparq/format';
import { evaluatePerplexity, loadModel } from '@sparq/lm';
import { sharedPath } from '@sparq/test-utils';
import { it } from 'vitest';
import { buildCalibration, compressModel, parseRecipe, withCalibrationFlags } from '../src/index';

const QUICK = process.env.SPARQ_BENCH_QUICK === '1';
const CALIB = {
  calib: process.env.SPARQ_BENCH_CALIB ?? 'self',
  samples: Number(process.env.SPARQ_BENCH_SAMPLES ?? (QUICK ? 8 : 128)),
  seqlen: Number(process.env.SPARQ_BENCH_SEQLEN ?? (QUICK ? 64 : 128)),
  seed: Number(process.env.SPARQ_BENCH_SEED ?? 0),
};
const HF = sharedPath('models', 'stories260K', 'hf');
const TOK = sharedPath('models', 'stories260K', 'tok512.bin');
const TEXT = sharedPath('data', 'tinystories', 'tinystories_sample.txt');
const RECIPES = resolve(__dirname, 'recipes');
const OUT_JSON = process.env.SPARQ_BENCH_OUT ?? resolve(__dirname, '..', '..', '..', 'docs', 'benchmarks', 'compress-stories260k.json');

interface Row {
  name: string;
  method: string;
  perplexity: number;
  nll: number;
  tokens: number;
  /** Mean stored bits per weight over the compressed linears (format accounting). */
  linearBits?: number;
  /** Stored bits per parameter of the whole container (embedding and norms included). */
  modelBits?: number;
  sparsity?: number;
  meanRelError?: number;
  /** Compression time without the (shared) self-calibration sampling, seconds. */
  compressSeconds?: number;
  /** Peak RSS sampled every 20 ms during compression (the process also holds the harness), bytes. */
  peakRssBytes?: number;
  command?: string;
}

/** Samples RSS until stopped; returns the maximum seen. */
function rssSampler(): () => number {
  let max = process.memoryUsage().rss;
  const t = setInterval(() => (max = Math.max(max, process.memoryUsage().rss)), 20);
  return () => {
    clearInterval(t);
    return Math.max(max, process.memoryUsage().rss);
  };
}

it('stories260K: every bench recipe, compressed then evaluated', async () => {
  const threads = Math.min(2, availableParallelism());
  const backend = createCpuWasmBackend({ threads });
  await backend.init();
  const text = readFileSync(TEXT, 'utf8');
  const tmp = mkdtempSync(join(tmpdir(), 'sparq-bench-'));
  const rows: Row[] = [];
  let calibrationSeconds = 0;
  const evalPpl = async (path: string, tokenizer?: string) => {
    const { model, tokenizer: tok } = await loadModel(path, { backend, ...(tokenizer ? { tokenizer } : {}) });
    try {
      return await evaluatePerplexity(model, tok, text, { docSeparator: '<|endoftext|>' });
    } finally {
      await model.dispose();
    }
  };
  try {
    const dense = await evalPpl(HF, TOK);
    rows.push({ name: 'dense', method: 'dense f32', perplexity: dense.perplexity, nll: dense.nll, tokens: dense.tokens, modelBits: 32, linearBits: 32 });
    console.log(`dense: ppl ${dense.perplexity.toFixed(4)}`);
    // Self-calibration is sampled once (it depends only on the dense model and the seed) and shared by every run.
    const t0 = performance.now();
    const calibModel = await loadModel(HF, { backend, tokenizer: TOK, lazy: true });
    const calibration = await buildCalibration(calibModel.model, calibModel.tokenizer, withCalibrationFlags(parseRecipe('stages: [{ type: quantize, method: rtn }]'), CALIB));
    await calibModel.model.dispose();
    calibrationSeconds = (performance.now() - t0) / 1000;
    console.log(`calibration: ${calibration.description} in ${calibrationSeconds.toFixed(1)} s`);
    const only = process.env.SPARQ_BENCH_ONLY?.split(',');
    const files = readdirSync(RECIPES)
      .filter((f) => f.endsWith('.yaml'))
      .filter((f) => !only || only.includes(basename(f, '.yaml')));
    for (const f of files) {
      const name = basename(f, '.yaml');
      const recipe = withCalibrationFlags(parseRecipe(readFileSync(join(RECIPES, f), 'utf8'), f), CALIB);
      const out = join(tmp, name);
      const { model, tokenizer } = await loadModel(HF, { backend, tokenizer: TOK, lazy: true });
      const stop = rssSampler();
      let report;
      try {
        report = await compressModel({ model, tokenizer, recipe, out, tokenizerFiles: [TOK], calibration });
      } finally {
        await model.dispose();
      }
      const peak = stop();
      const ppl = await evalPpl(out);
      const c = await openSparqContainer(out);
      const acc = c.accounting();
      await c.close();
      let bits = 0;
      let n = 0;
      for (const l of report.linears) {
        bits += l.bitsPerWeight * l.rows * l.cols;
        n += l.rows * l.cols;
      }
      const row: Row = {
        name,
        method: report.linears[0]!.method,
        perplexity: ppl.perplexity,
        nll: ppl.nll,
        tokens: ppl.tokens,
        linearBits: bits / n,
        modelBits: acc.bitsPerWeight,
        ...(report.totals.sparsity !== undefined ? { sparsity: report.totals.sparsity } : {}),
        meanRelError: report.totals.meanRelError ?? undefined,
        compressSeconds: report.totals.seconds,
        peakRssBytes: peak,
        command:
          `sparq compress <shared>/models/stories260K/hf --tokenizer <shared>/models/stories260K/tok512.bin ` +
          `--recipe packages/compress/bench/recipes/${f} --calib ${CALIB.calib} --samples ${CALIB.samples} --seqlen ${CALIB.seqlen} --seed ${CALIB.seed} --out out/${name}`,
      };
      rows.push(row);
      console.log(
        `${name}: ppl ${row.perplexity.toFixed(4)} · ${row.linearBits!.toFixed(3)} bits/w (linears) · ${row.modelBits!.toFixed(3)} (model) · ` +
          `rel.err ${row.meanRelError!.toExponential(3)} · ${row.compressSeconds!.toFixed(1)} s · peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
      );
      rmSync(out, { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await backend.dispose();
  }
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, date: new Date().toISOString(), backend: `cpu-wasm (${threads} threads)` };
  writeFileSync(OUT_JSON, `${JSON.stringify({ machine, calibration: { ...CALIB, seconds: calibrationSeconds }, evaluation: { text: 'data/tinystories/tinystories_sample.txt', docSeparator: '<|endoftext|>' }, rows }, null, 2)}\n`);
  console.log(`wrote ${OUT_JSON}`);
});
