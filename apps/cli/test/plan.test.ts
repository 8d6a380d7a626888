import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { sparq } from './run-cli';


const model = () => sharedPath('models', 'stories260K', 'stories260K.bin');
const sample = () => sharedPath('data', 'tinystories', 'tinystories_sample.txt');
const root = mkdtempSync(join(tmpdir(), 'sparq-cli-plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const FAST = ['--samples', '4', '--seqlen', '32', '--fitness-samples', '4', '--fitness-seqlen', '32', '--backend', 'reference'];

describe('sparq plan', () => {
  it('searches a plan under the exact budget, and sparq compress --plan applies it', async () => {
    const plan = join(root, 'plan.json');
    const r = await sparq('plan', model(), '--ladder', 'sparsity:30-70:20', '--budget', '50%', '--solver', 'magnitude', '--generations', '3', '--offspring', '3',
      '--out', plan, '--report', join(root, 'plan.svg'), '--json', ...FAST);
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.format).toBe('sparq-plan');
    expect(p.achieved.cost).toBe(p.budget.total);
    expect(p.units).toHaveLength(35);
    expect(r.err).toMatch(/generation 3\/3: best KL/);
    expect(readFileSync(join(root, 'plan.svg'), 'utf8')).toMatch(/^<svg/);
    const out = join(root, 'planned');
    const c = await sparq('compress', model(), '--plan', plan, '--out', out, '--json', '--samples', '4', '--seqlen', '32', '--backend', 'reference');
    expect(c.err).not.toMatch(/error\[/);
    const rep = JSON.parse(c.out);
    // Every linear compressed at its planned level; the pruned fraction over all of them is the budget's 50 %.
    for (const u of p.units) {
      const l = rep.linears.find((x: { name: string }) => x.name === u.name);
      expect(l.sparsity).toBeCloseTo(Number(u.level.replace('%', '')) / 100, 2);
    }
    expect(rep.totals.sparsity).toBeCloseTo(0.5, 3);
    const e = await sparq('eval', out, '--text', sample(), '--doc-separator', '<|endoftext|>', '--json', '--backend', 'reference');
    expect(JSON.parse(e.out).perplexity).toBeGreaterThan(3.5);
    expect(existsSync(`${plan}.levels/database.json`)).toBe(true);
  });

  it('--workers 2 scores candidates on worker threads and finds exactly the in-process plan', async () => {
    const common = ['plan', model(), '--ladder', 'sparsity:30-70:20', '--budget', '50%', '--solver', 'magnitude', '--generations', '3',
      '--offspring', '4', '--db', join(root, 'plan.json.levels'), '--json', '--backend', 'cpu-wasm', ...FAST.filter((x) => x !== 'reference' && x !== '--backend')];
    const one = await sparq(...common, '--out', join(root, 'w1.json'));
    const two = await sparq(...common, '--out', join(root, 'w2.json'), '--workers', '2');
    expect(two.err).not.toMatch(/error\[/);
    const [a, b] = [JSON.parse(one.out), JSON.parse(two.out)];
    expect(b.units).toEqual(a.units);
    expect(b.fitness.history).toEqual(a.fitness.history);
    expect(b.fitness.evaluations).toBe(a.fitness.evaluations);
  });

  it('plans under a latency budget from the FPGA simulator (N:M ladder, --cost fpga)', async () => {
    const plan = join(root, 'fpga-plan.json');
    const r = await sparq('plan', model(), '--ladder', 'nm:dense,2:4,1:4', '--budget', '2:4', '--cost', 'fpga', '--solver', 'magnitude',
      '--generations', '2', '--offspring', '3', '--out', plan, '--json', ...FAST);
    expect(r.err).not.toMatch(/error\[/);
    const p = JSON.parse(r.out);
    expect(p.budget.label).toBe('uniform 2:4 (fpga decode cycles)');
    expect(p.achieved.cost).toBe(p.budget.total);
    // The budget is the uniform 2:4 decode latency: strictly between all-1:4 and all-dense on the simulated array.
    const uni = (level: string) => sparq('plan', model(), '--ladder', 'nm:dense,2:4,1:4', '--budget', level, '--cost', 'fpga', '--solver', 'magnitude',
      '--method', 'uniform', '--out', join(root, `u-${level.replace(':', '')}.json`), '--json', ...FAST);
    const dense = JSON.parse((await uni('dense')).out).budget.total;
    const sparse = JSON.parse((await uni('1:4')).out).budget.total;
    expect(sparse).toBeLessThan(p.budget.total);
    expect(p.budget.total).toBeLessThan(dense);
    const bad = await sparq('plan', model(), '--ladder', 'sparsity:30-70:20', '--budget', '50%', '--cost', 'fpga', '--out', join(root, 'z.json'), ...FAST);
    expect(bad.err).toMatch(/^error\[E_ARG\]: --cost fpga needs an N:M or bits ladder/);
  });

  it('plans under a latency budget from a CPU kernel benchmark table (--cost cpu)', async () => {
    const table = join(__dirname, '..', '..', '..', 'docs', 'benchmarks', 'cpu-quiet.json');
    const run = (budget: string, ladder = 'nm:dense,2:4') =>
      sparq('plan', model(), '--ladder', ladder, '--budget', budget, '--cost', 'cpu', '--cost-table', table, '--solver', 'magnitude', '--method', 'uniform',
        '--out', join(root, `cpu-${budget.replace(':', '')}-${ladder.split(',').length}.json`), '--json', ...FAST);
    const r = await run('2:4');
    expect(r.err).not.toMatch(/error\[/);
    const p = JSON.parse(r.out);
    expect(p.budget.label).toMatch(/^uniform 2:4 \(cpu decode ps/);
    expect(p.achieved.cost).toBe(p.budget.total);
    // The table's 2:4 GEMV is faster per weight than its dense GEMV, so the 2:4 budget is below the dense one.
    expect(p.budget.total).toBeLessThan(JSON.parse((await run('dense')).out).budget.total);
    const missing = await run('2:4', 'nm:dense,2:4,1:4');
    expect(missing.err).toMatch(/^error\[E_ARG\]: cost table .* has no 2-thread GEMV measurement of format "1:4"/);
    // The full table (every GEMV format, docs/benchmarks/cpu-cost-table.json) has 1:4 too: measured faster per weight
    // than 2:4. (stories260K's down_proj has 172 input columns, so 4:8 does not apply to it.)
    const full = join(__dirname, '..', '..', '..', 'docs', 'benchmarks', 'cpu-cost-table.json');
    const planFull = (budget: string) =>
      sparq('plan', model(), '--ladder', 'nm:dense,2:4,1:4', '--budget', budget, '--cost', 'cpu', '--cost-table', full, '--solver', 'magnitude',
        '--method', 'uniform', '--out', join(root, `cpu-full-${budget.replace(':', '')}.json`), '--json', ...FAST);
    const r14 = await planFull('1:4');
    expect(r14.err).not.toMatch(/error\[/);
    expect(JSON.parse(r14.out).budget.total).toBeLessThan(JSON.parse((await planFull('2:4')).out).budget.total);
  });

  it('bits ladders take a size budget (average bits/weight) and stay within it', async () => {
    const r = await sparq('plan', model(), '--ladder', 'bits:2,3,4,8', '--budget', '3.5bits', '--solver', 'rtn', '--generations', '2', '--offspring', '3',
      '--out', join(root, 'bits.json'), '--json', ...FAST);
    expect(r.err).not.toMatch(/error\[/);
    const p = JSON.parse(r.out);
    expect(p.budget.label).toMatch(/^at most 3.5 bits\/weight/);
    expect(p.achieved.cost).toBe(p.budget.total);
    expect(p.achieved.bitsPerWeight).toBeLessThanOrEqual(3.5);
    expect(p.achieved.bitsPerWeight).toBeGreaterThan(3.3);
  });

  it('rejects bad input clearly', async () => {
    const bad = await sparq('plan', model(), '--budget', '50%', '--ladder', 'sparsity:90-10:5', '--out', join(root, 'x.json'), ...FAST);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error\[E_ARG\]: invalid ladder "sparsity:90-10:5"/);
    const m = await sparq('plan', model(), '--budget', '50%', '--method', 'greedy', '--out', join(root, 'x.json'), ...FAST);
    expect(m.err).toMatch(/^error\[E_ARG\]: --method must be evopress, uniform or owl/);
    const both = await sparq('compress', model(), '--plan', join(root, 'plan.json'), '--prune', 'wanda', '--out', join(root, 'y'));
    expect(both.err).toMatch(/^error\[E_ARG\]: --plan cannot be combined/);
  });
});
