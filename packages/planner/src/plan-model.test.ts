import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRecipe } from '@sparq/compress';
import { loadModel } from '@sparq/lm';
import { createReferenceBackend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelDatabase } from './database';
import { KlFitness } from './fitness';
import { planRecipe, readPlan } from './plan-file';
import { planModel } from './plan-model';

const dir = mkdtempSync(join(tmpdir(), 'sparq-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('planModel on stories260K', () => {
  it('builds a levels database, searches under an exact budget, writes a plan that compress can apply', async () => {
    const backend = createReferenceBackend();
    const modelPath = sharedPath('models', 'stories260K', 'stories260K.bin');
    const { model, tokenizer } = await loadModel(modelPath, { backend });
    const recipe = validateRecipe({
      stages: [{ type: 'prune', method: 'wanda', pattern: '50%' }],
      calibration: { source: 'self', samples: 4, seqlen: 32, seed: 0 },
    });
    const common = { model, modelPath, tokenizer, recipe, ladder: 'sparsity:30-70:20', budget: '50%', db: join(dir, 'db'), fitnessSamples: 4, fitnessSeqlen: 32 };
    const evo = await planModel({ ...common, method: 'evopress', out: join(dir, 'evo.json'), report: join(dir, 'evo.svg'), generations: 6, offspring: 4, seed: 1 });
    const uni = await planModel({ ...common, method: 'uniform', out: join(dir, 'uni.json') });
    const owl = await planModel({ ...common, method: 'owl', out: join(dir, 'owl.json') });
    for (const r of [evo, uni, owl]) {
      expect(r.plan.achieved.cost).toBe(r.plan.budget.total);
      expect(r.plan.achieved.averageSparsity).toBeCloseTo(0.5, 12);
      expect(r.plan.units).toHaveLength(35);
    }
    expect(uni.plan.units.every((u) => u.level === '50%')).toBe(true);
    // EvoPress starts from the uniform plan and only accepts improvements: its KL is ≤ the uniform plan's.
    const h = evo.plan.fitness!.history;
    expect(h[h.length - 1]!).toBeLessThanOrEqual(h[0]!);
    expect(existsSync(join(dir, 'evo.svg'))).toBe(true);
    // The database holds one container per compressed level, readable lazily.
    const db = await LevelDatabase.load(join(dir, 'db'), model);
    expect(db.manifest.levelDirs).toHaveLength(3);
    const w = await db.weight(0, 2);
    const zeros = w.data.filter((x) => x === 0).length;
    expect(zeros / w.data.length).toBeCloseTo(0.7, 2);
    await db.close();
    // The plan round-trips and becomes a recipe with one override per unit.
    const saved = await readPlan(join(dir, 'evo.json'));
    const r = planRecipe(saved);
    expect(r.overrides).toHaveLength(35);
    expect(JSON.parse(readFileSync(join(dir, 'evo.json'), 'utf8')).format).toBe('sparq-plan');
    await model.dispose();
  });

  it('an interrupted search resumes from the last generation and ends where an uninterrupted one does', async () => {
    const backend = createReferenceBackend();
    const modelPath = sharedPath('models', 'stories260K', 'stories260K.bin');
    const { model, tokenizer } = await loadModel(modelPath, { backend });
    const recipe = validateRecipe({
      stages: [{ type: 'prune', method: 'wanda', pattern: '50%' }],
      calibration: { source: 'self', samples: 4, seqlen: 32, seed: 0 },
    });
    const common = { model, modelPath, tokenizer, recipe, ladder: 'sparsity:30-70:20', budget: '50%', db: join(dir, 'db'), fitnessSamples: 4, fitnessSeqlen: 32, method: 'evopress' as const, generations: 5, offspring: 4, seed: 2 };
    const full = await planModel({ ...common, out: join(dir, 'full.json') });
    const out = join(dir, 'resumed.json');
    await expect(
      planModel({ ...common, out, onProgress: (l) => { if (l.startsWith('generation 3/')) throw new Error('interrupted'); } }),
    ).rejects.toThrow('interrupted');
    expect(existsSync(`${out}.search.json`)).toBe(true);
    const lines: string[] = [];
    const resumed = await planModel({ ...common, out, onProgress: (l) => void lines.push(l) });
    expect(lines.some((l) => l.startsWith('resuming the search from generation 3'))).toBe(true);
    expect(resumed.plan.units).toEqual(full.plan.units);
    expect(resumed.plan.fitness!.history).toEqual(full.plan.fitness!.history);
    expect(existsSync(`${out}.search.json`)).toBe(false);
    await model.dispose();
  });

  it('the nll fitness metric is the candidate model\'s mean next-token NLL (float64 log-sum-exp in the test)', async () => {
    const backend = createReferenceBackend();
    const { model } = await loadModel(sharedPath('models', 'stories260K', 'stories260K.bin'), { backend });
    const db = await LevelDatabase.load(join(dir, 'db'), model);
    const seqs = [[1, 410, 469, 347, 286, 261, 376, 300], [1, 87, 300, 42, 99, 410]];
    const fit = await KlFitness.create(model, db, seqs, 'nll');
    const a = new Int32Array(db.manifest.units.length).fill(2); // every layer at 70 %
    const got = await fit.evaluate(a, { tokens: 100, survivors: 1 });
    // Independent: install the same weights, take raw logits, log-sum-exp in float64.
    for (let u = 0; u < a.length; u++) await model.setLinearWeight(db.manifest.units[u]!.name, await db.weight(u, 2));
    let sum = 0;
    let n = 0;
    for (const q of seqs) {
      const logits = (await model.forward(q)).data;
      const V = model.config.vocabSize;
      for (let t = 0; t + 1 < q.length; t++) {
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, logits[t * V + v]!);
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v]! - m);
        sum += m + Math.log(z) - logits[t * V + q[t + 1]!]!;
        n++;
      }
    }
    expect(got).toBeCloseTo(sum / n, 5);
    await db.close();
    await model.dispose();
  });
});
