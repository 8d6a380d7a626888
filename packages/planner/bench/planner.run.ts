/**
 * stories260K planner measurements behind docs/benchmarks/planner.md (`pnpm bench`
 * in packages/planner; vitest is only the TypeScript runner, `pnpm test` never runs it).
 *
 * For each budget — average sparsity 50 % and 60 % on a SparseGPT sparsity ladder,
 * and "average 3 bits" (the stored bits of uniform GPTQ w3) on a GPTQ bit-width
 * ladder — three plans are made with the same levels database and fitness tokens:
 * uniform, OWL (sparsity only) and EvoPress. Each plan is then applied exactly as
 * `sparq compress --plan` does (the sequential driver with per-layer overrides) and
 * evaluated like `sparq eval --doc-separator '<|endoftext|>'` on the TinyStories
 * sample. Environment: SPARQ_BENCH_QUICK=1 (smoke run), SPARQ_BENCH_OUT (JSON path).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { compressModel, validateRecipe, type Recipe } from '@sparq/compress';
import { evaluatePerplexity, loadModel } from '@sparq/lm';
import { sharedPath } from '@sparq/test-utils';
import { it } from 'vitest';
import { LevelDatabase, KlFitness, planModel, planRecipe, sampleFitness } from '../src/index';

const QUICK = process.env.SPARQ_BENCH_QUICK === '1';
const MODEL = sharedPath('models', 'stories260K', 'stories260K.bin');
const TOK = sharedPath('models', 'stories260K', 'tok512.bin');
const TEXT = sharedPath('data', 'tinystories', 'tinystories_sample.txt');
const OUT_JSON = process.env.SPARQ_BENCH_OUT ?? resolve(__dirname, '..', '..', '..', 'docs', 'benchmarks', 'planner-stories260k.json');
const CAL = { source: 'self', samples: QUICK ? 8 : 64, seqlen: QUICK ? 32 : 128, seed: 0 };
const GENS = QUICK ? 3 : 60;

interface Setting {
  name: string;
  ladder: string;
  budget: string;
  recipe: Recipe;
  methods: ('uniform' | 'owl' | 'evopress')[];
}

it('planner: uniform vs OWL vs EvoPress on stories260K', async () => {
  const backend = createCpuWasmBackend({ threads: Math.min(2, availableParallelism()) });
  await backend.init();
  const { model, tokenizer } = await loadModel(MODEL, { backend });
  const text = (await import('node:fs')).readFileSync(TEXT, 'utf8');
  const dense = await evaluatePerplexity(model, tokenizer, text, { docSeparator: '<|endoftext|>' });
  const work = mkdtempSync(join(tmpdir(), 'sparq-planner-bench-'));
  const sparsityRecipe = validateRecipe({ stages: [{ type: 'prune', method: 'sparsegpt', pattern: '50%' }], calibration: CAL });
  const bitsRecipe = validateRecipe({ stages: [{ type: 'quantize', method: 'gptq', bits: 4, group: -1 }], calibration: CAL });
  const settings: Setting[] = [
    { name: 'sparsity 50%', ladder: 'sparsity:20-80:10', budget: '50%', recipe: sparsityRecipe, methods: ['uniform', 'owl', 'evopress'] },
    { name: 'sparsity 60%', ladder: 'sparsity:20-80:10', budget: '60%', recipe: sparsityRecipe, methods: ['uniform', 'owl', 'evopress'] },
    { name: 'average 3 bits', ladder: 'bits:2,3,4,8', budget: 'w3', recipe: bitsRecipe, methods: ['uniform', 'evopress'] },
  ];
  const rows: Record<string, unknown>[] = [];
  try {
    for (const s of settings) {
      const db = join(work, s.ladder.replace(/[^a-z0-9]+/gi, '_'));
      for (const method of s.methods) {
        const t0 = performance.now();
        const r = await planModel({
          model, modelPath: MODEL, tokenizer, tokenizerFiles: [TOK], recipe: s.recipe, ladder: s.ladder, budget: s.budget, method, db,
          out: join(work, `${s.name}-${method}.json`.replace(/[^a-z0-9.-]+/gi, '_')),
          report: join(QUICK ? work : resolve(__dirname, '..', '..', '..', 'docs', 'benchmarks'), `planner-${s.name}-${method}.svg`.replace(/[ %]+/g, '-').replace(/-+/g, '-')),
          generations: GENS, offspring: 16, seed: 0, fitnessSamples: QUICK ? 4 : 16, fitnessSeqlen: QUICK ? 32 : 128,
          onProgress: (l) => process.stderr.write(`[${s.name} ${method}] ${l}\n`),
        });
        const planSeconds = (performance.now() - t0) / 1000;
        // KL of the plan on the fitness tokens, for every method alike.
        const ldb = await LevelDatabase.load(db, model);
        const fit = await KlFitness.create(model, ldb, (await sampleFitness(model, tokenizer, s.recipe, QUICK ? 4 : 16, QUICK ? 32 : 128)).ids);
        const kl = await fit.evaluate(r.assignment, { tokens: fit.totalTokens, survivors: 1 });
        await ldb.close();
        for (let b = 0; b < model.numBlocks; b++) model.unloadBlock(b, { discardOverrides: true });
        // Apply the plan exactly as `sparq compress --plan` does, then evaluate.
        const out = join(work, `${s.name}-${method}-model`.replace(/[^a-z0-9.-]+/gi, '_'));
        const c0 = performance.now();
        await compressModel({ model, tokenizer, recipe: planRecipe(r.plan), out, tokenizerFiles: [TOK] });
        const compressSeconds = (performance.now() - c0) / 1000;
        for (let b = 0; b < model.numBlocks; b++) model.unloadBlock(b, { discardOverrides: true });
        const { model: cm, tokenizer: ct } = await loadModel(out, { backend });
        const ppl = await evaluatePerplexity(cm, ct, text, { docSeparator: '<|endoftext|>' });
        await cm.dispose();
        const levels = r.plan.units.map((u) => u.level);
        rows.push({
          setting: s.name, method, ppl: ppl.perplexity, kl, averageSparsity: r.plan.achieved.averageSparsity,
          bitsPerWeight: r.plan.achieved.bitsPerWeight ?? null, budget: r.plan.budget, planSeconds, compressSeconds,
          evaluations: r.plan.fitness?.evaluations ?? 0, evaluationsPerSecond: r.evaluationsPerSecond ?? null,
          history: r.plan.fitness?.history ?? null, levels,
        });
        process.stderr.write(`== ${s.name} ${method}: PPL ${ppl.perplexity.toFixed(3)} KL ${kl.toFixed(5)}\n`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await model.dispose();
    await backend.dispose();
  }
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, date: new Date().toISOString() };
  writeFileSync(OUT_JSON, `${JSON.stringify({ machine, quick: QUICK, calibration: CAL, generations: GENS, densePpl: dense.perplexity, rows }, null, 2)}\n`);
  console.log(JSON.stringify(rows.map((r) => [r.setting, r.method, r.ppl, r.kl]), null, 0));
});
