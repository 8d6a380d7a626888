import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRecipe } from '@sparq/compress';
import { loadModel } from '@sparq/lm';
import { createReferenceBackend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelDatabase } from './database';
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
});
