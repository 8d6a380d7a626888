import { describe, expect, it } from 'vitest';
import { resolveFpgaConfig } from './config';
import { parsePattern } from './mapping';
import { comparePlans, decodePhase, modelGemms, modelShape, prefillPhase, simulateModel } from './model';
import { choiceFor, parsePlan, uniformPlan } from './plan';
import { estimateResources } from './resources';

describe('model-level runs', () => {
  it('LLaMA-7B weight GEMMs cover exactly its 6,607,077,376 linear-layer weights', () => {
    // Published LLaMA-7B parameter count 6,738,415,616 minus the 32000×4096 embedding and the
    // 65 RMSNorm vectors of 4096 = the weights of q/k/v/o, gate/up/down in 32 layers plus lm_head.
    const linear = 6_738_415_616 - 32000 * 4096 - 65 * 4096;
    const gemms = modelGemms(modelShape('llama-7b'), decodePhase(128)).filter((g) => g.planned);
    expect(gemms).toHaveLength(32 * 7 + 1);
    expect(gemms.reduce((s, g) => s + g.k * g.n, 0)).toBe(linear);
    const r = simulateModel(resolveFpgaConfig({}), modelShape('llama-7b'), decodePhase(128), uniformPlan(parsePattern('dense'), 8));
    const attnMacs = 32 * 32 * 2 * 128 * 128; // per layer and head: q·Kᵀ (1×128×128) and P·V (1×128×128)
    expect(r.macs).toBe(linear + attnMacs);
    expect(r.tokensPerSecond).toBeCloseTo(1000 / r.latencyMs, 9);
  });

  it('sparse plans speed up both phases on the same array; prefill gains ≈ M/N', () => {
    const cfg = resolveFpgaConfig({});
    const shape = modelShape('llama-7b');
    const rows = comparePlans(cfg, shape, prefillPhase(128), [uniformPlan(parsePattern('2:4'), 4), uniformPlan(parsePattern('1:4'), 4)]);
    expect(rows.map((r) => r.plan)).toEqual(['dense/int8', '2:4/int4', '1:4/int4']);
    expect(rows[0]!.speedup).toBe(1);
    expect(rows[1]!.speedup).toBeGreaterThan(1.9);
    expect(rows[1]!.speedup).toBeLessThanOrEqual(2);
    expect(rows[2]!.speedup).toBeGreaterThan(3.7);
    expect(rows[2]!.energyRatio).toBeLessThan(rows[1]!.energyRatio);
    const dec = comparePlans(cfg, shape, decodePhase(128), [uniformPlan(parsePattern('2:4'), 4)]);
    expect(dec[1]!.speedup).toBeGreaterThan(1.5);
    expect(dec[1]!.dramBytes).toBeLessThan(dec[0]!.dramBytes);
  });

  it('plan files: first matching glob wins, validation names the field', () => {
    const plan = parsePlan(
      {
        name: 'mixed',
        default: { pattern: '2:4', bits: 4 },
        rules: [
          { match: 'model.layers.0.*', pattern: 'dense', bits: 8 },
          { match: '*.mlp.down_proj', pattern: '4:8', bits: 4 },
        ],
      },
      'mixed.json',
    );
    expect(choiceFor(plan, 'model.layers.0.mlp.down_proj')).toMatchObject({ pattern: { keep: 1, group: 1 }, bits: 8 });
    expect(choiceFor(plan, 'model.layers.7.mlp.down_proj')).toMatchObject({ pattern: { keep: 4, group: 8 }, bits: 4 });
    expect(choiceFor(plan, 'lm_head')).toMatchObject({ pattern: { keep: 2, group: 4 }, bits: 4 });
    expect(() => parsePlan({ default: { pattern: '5:4' } }, 'bad.json')).toThrow(/need 1 ≤ N < M ≤ 16/);
    expect(() => parsePlan({ rules: [{ match: '*', bits: 5 }] }, 'bad.json')).toThrow(/bad.json: rules\[0\]\.bits must be one of 2, 3, 4, 8/);
    expect(() => parsePlan({ rulez: [] }, 'bad.json')).toThrow(/key "rulez"/);
  });

  it('a pattern that does not divide a layer names the layer (stories260K: intermediate 172 vs 2:8)', () => {
    const cfg = resolveFpgaConfig({ array: { rows: 8, cols: 8, dataflow: 'ws' } });
    expect(() => simulateModel(cfg, modelShape('stories260K'), decodePhase(16), uniformPlan(parsePattern('2:8'), 4))).toThrow(
      /layer model\.layers\.0\.mlp\.down_proj: k = 172 is not a multiple of the N:M group 8/,
    );
    expect(() => modelShape('gpt-5')).toThrow(/unknown model shape "gpt-5"/);
  });

  it('resource estimate: the default design fits the U280, a 128×128 array with 16-way selectors does not', () => {
    const ok = estimateResources(resolveFpgaConfig({}));
    expect(ok.fits).toBe(true);
    expect(ok.dsp).toBe(2048);
    const big = estimateResources(resolveFpgaConfig({ array: { rows: 128, cols: 128, dataflow: 'ws' } }));
    expect(big.fits).toBe(false);
    expect(big.violations.join('\n')).toMatch(/LUT: needs 2031616, AMD Alveo U280 has 1304000/);
  });
});
