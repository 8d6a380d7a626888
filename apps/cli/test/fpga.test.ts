import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sparq } from './run-cli';


const dir = mkdtempSync(join(tmpdir(), 'sparq-fpga-'));

describe('sparq fpga', () => {
  it('simulate --compat scalesim reproduces SCALE-Sim v2 timing (hand-computed: ws 8×8, M=16 K=20 N=12 → 227 cycles)', async () => {
    const r = await sparq('fpga', 'simulate', '--rows', '8', '--cols', '8', '--dataflow', 'ws', '--gemm', '16x20x12', '--compat', 'scalesim', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.cycles).toBe(6 * (2 * 8 + 8 + 16 - 2) - 1);
    expect(j.stallCycles).toBe(0);
    expect(j.utilization).toBeCloseTo((16 * 12 * 20) / (227 * 64), 12);
    expect(typeof j.dramBytes).toBe('number');
    expect(j.latencyMs).toBeCloseTo(227 / 300e3, 12);
  });

  it('simulate: analytical and cycle-level modes agree; a sparse pattern halves a compute-bound GEMM', async () => {
    const cfgFile = join(dir, 'arch.json');
    writeFileSync(cfgFile, JSON.stringify({ name: 'tiny', array: { rows: 4, cols: 4, dataflow: 'os' }, dram: { bandwidthGBs: 3, latencyCycles: 20 } }));
    const run = async (...extra: string[]) => JSON.parse((await sparq('fpga', 'simulate', '--config', cfgFile, '--gemm', '6x64x9', '--bits', '4', '--json', ...extra)).out);
    const ana = await run('--pattern', '2:4');
    const cyc = await run('--pattern', '2:4', '--mode', 'cycle');
    expect(cyc.mode).toBe('cycle');
    expect(cyc.cycles).toBe(ana.cycles);
    expect(cyc.stallCycles).toBe(ana.stallCycles);
    for (const k of ['cycles', 'utilization', 'stallCycles', 'dramBytes', 'latencyMs']) expect(typeof ana[k]).toBe('number');
    const big = async (...extra: string[]) =>
      JSON.parse((await sparq('fpga', 'simulate', '--gemm', '256x4096x4096', '--bits', '4', '--json', ...extra)).out);
    const dense = await big();
    const sparse = await big('--pattern', '2:4');
    expect(dense.bound).toBe('compute');
    expect(dense.cycles / sparse.cycles).toBeGreaterThan(1.9);
    expect(dense.resources.fits).toBe(true);
  });

  it('model llama-7b --plan runs decode and prefill against dense INT8 in well under a second of simulation', async () => {
    const plan = join(dir, 'plan.json');
    writeFileSync(plan, JSON.stringify({ name: '2:4-int4, attention dense', default: { pattern: '2:4', bits: 4 }, rules: [{ match: '*.self_attn.*', pattern: 'dense', bits: 8 }] }));
    const r = await sparq('fpga', 'model', 'llama-7b', '--plan', plan, '--json');
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.phases.map((p: { phase: { kind: string } }) => p.phase.kind)).toEqual(['decode', 'prefill']);
    for (const p of j.phases) {
      expect(p.speedupVsDenseInt8).toBeGreaterThan(1.2);
      expect(p.energyVsDenseInt8).toBeLessThan(1);
    }
    const human = await sparq('fpga', 'model', 'llama-7b', '--plan', plan, '--phase', 'decode');
    expect(human.out).toMatch(/decode \(1 token, context 128\): .* tok\/s .* speed-up \d+\.\d\d× .* vs dense INT8/);
  });

  it('bad input: one error line with a code', async () => {
    const badGemm = await sparq('fpga', 'simulate', '--gemm', '12x12');
    expect(badGemm.code).toBe(1);
    expect(badGemm.err).toMatch(/^error\[E_ARG\]: --gemm must be MxKxN/);
    const badPattern = await sparq('fpga', 'simulate', '--gemm', '4x16x4', '--pattern', '4:2');
    expect(badPattern.err).toMatch(/^error\[E_ARG\]: sparsity pattern 4:2/);
    const typo = await sparq('fpga', 'simulate', '--gemm', '4x16x4', '--dataflw', 'os');
    expect(typo.err).toMatch(/^error\[E_ARG\]: unknown option --dataflw/);
    const compatSparse = await sparq('fpga', 'simulate', '--gemm', '4x16x4', '--pattern', '2:4', '--compat', 'scalesim');
    expect(compatSparse.err).toMatch(/^error\[E_ARG\]: --compat scalesim models dense GEMMs only/);
    const noPlan = await sparq('fpga', 'model', 'llama-7b', '--plan', join(dir, 'missing.json'));
    expect(noPlan.err).toMatch(/^error\[E_IO\]: cannot read plan file/);
    const badCfg = join(dir, 'bad.json');
    writeFileSync(badCfg, JSON.stringify({ array: { rows: 0 } }));
    const cfg = await sparq('fpga', 'simulate', '--gemm', '4x16x4', '--config', badCfg);
    expect(cfg.err).toMatch(/^error\[E_CONFIG\]: .*bad\.json: array\.rows must be an integer in 1…4096, found 0/);
  });
});
