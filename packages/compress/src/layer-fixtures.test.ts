/**
 * Every case of the layer-level reference fixtures (SPARQ_LAYER_FIXTURES,
 * default ../shared/reference/layer; README there) run through the path the
 * driver uses: a recipe → planCompression → solveLinear over the public
 * solver APIs (the joint `sparsegpt_*_w4` cases with the real
 * createColumnQuantizer injected into sparseGpt), matched within the
 * README's tolerances. A case this test cannot map is a failure.
 */
import { loadLayerCases, type LayerCase } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { relativeReconstructionError } from './compressed-linear';
import { planCompression } from './plan';
import { validateRecipe } from './recipe';
import { solveLinear } from './solve';

const cases = loadLayerCases();

/** The recipe stage of a case, from its params (README "Case list"). */
function stagesOf(c: LayerCase): unknown[] {
  const p = c.json.params as Record<string, number | boolean>;
  const pattern = p.prune_n ? `${p.prune_n}:${p.prune_m}` : `${Number(p.sparsity) * 100}%`;
  switch (c.algorithm) {
    case 'magnitude':
    case 'wanda':
      // The fixtures reproduce the reference `|W| ≤ threshold` rule (one extra pruned weight) for unstructured magnitude.
      return [{ type: 'prune', method: c.algorithm, pattern, tieRule: 'reference' }];
    case 'sparsegpt': {
      const common = { pattern, blockSize: p.blocksize, percDamp: p.percdamp, tieRule: 'reference' };
      if (p.bits === undefined) return [{ type: 'prune', method: 'sparsegpt', ...common }];
      return [{ type: 'joint', ...common, bits: p.bits, group: p.groupsize, sym: p.sym }];
    }
    case 'rtn':
      return [{ type: 'quantize', method: 'rtn', bits: p.bits, group: p.groupsize, sym: p.sym }];
    case 'gptq':
      return [
        {
          type: 'quantize',
          method: 'gptq',
          bits: p.bits,
          group: p.groupsize,
          sym: p.sym,
          actOrder: p.actorder,
          staticGroups: p.static_groups,
          blockSize: p.blocksize,
          percDamp: p.percdamp,
        },
      ];
    default:
      throw new Error(`fixture ${c.id}: algorithm ${c.algorithm} has no recipe mapping in this test`);
  }
}

/** max |a − b| over entries not in `skipRows`. */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, cols: number, skipRows: Set<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) if (!skipRows.has(Math.floor(i / cols))) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxAbs(b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(b[i]!));
  return m;
}

/** Entries of `a` and `b` that differ outside `skipRows` (for identical-array checks with readable failures). */
function mismatches(a: ArrayLike<number>, b: ArrayLike<number>, cols: number, skipRows: Set<number>): number[] {
  const bad: number[] = [];
  for (let i = 0; i < b.length; i++) if (!skipRows.has(Math.floor(i / cols)) && a[i] !== b[i]) bad.push(i);
  return bad.slice(0, 5);
}

describe('layer fixtures through the driver composition', () => {
  it('finds the fixture set (88 cases over 4 inputs)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(88);
    expect(new Set(cases.map((c) => c.algorithm))).toEqual(new Set(['magnitude', 'wanda', 'sparsegpt', 'rtn', 'gptq']));
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const { rows, cols, W, X, H, n } = c;
    const fragile = new Set(c.json.tie_margins?.fragile_rows ?? []);
    const recipe = validateRecipe({ stages: stagesOf(c) });
    const plan = planCompression(recipe, [{ name: c.id, rows, cols }]).linears.get(c.id)!;
    // Wanda's statistic, computed here in float64 from X (independently of CalibrationStats).
    const meanSquare = new Float64Array(cols);
    for (let k = 0; k < n; k++) for (let j = 0; j < cols; j++) meanSquare[j] += X[k * cols + j]! ** 2 / n;
    if (c.outputs.wanda_scaler) expect(maxAbsDiff(meanSquare, c.outputs.wanda_scaler.data, cols, new Set())).toBeLessThanOrEqual(1e-9 * maxAbs(c.outputs.wanda_scaler.data));

    const { linear, solverWeight, perm } = solveLinear(plan, W, { hessian: H, meanSquare, samples: n }, { f16Stats: false });

    const out = c.outputs;
    const What = out.W_hat!.data as Float64Array;
    expect(maxAbsDiff(solverWeight, What, cols, fragile)).toBeLessThanOrEqual(1e-6 * maxAbs(What));
    if (out.mask) {
      expect(linear.mask, 'a pruning case must return its mask').toBeDefined();
      expect(mismatches(linear.mask!, out.mask.data, cols, new Set())).toEqual([]);
      expect(linear.mask!.reduce((s, v) => s + v, 0)).toBe(c.json.expected.num_pruned);
    }
    if (out.codes) {
      const q = linear.quant!;
      expect(q, 'a quantization case must return codes').toBeDefined();
      expect(mismatches(q.codes, out.codes.data, cols, fragile)).toEqual([]);
      const G = out.scales!.shape[1]!;
      expect(maxAbsDiff(q.scales, out.scales!.data, G, fragile)).toBeLessThanOrEqual(1e-6 * maxAbs(out.scales!.data));
      expect(mismatches(q.zeros, out.zeros!.data, G, fragile)).toEqual([]);
    }
    if (out.perm) expect(Array.from(perm ?? [])).toEqual(Array.from(out.perm.data));

    // Relative reconstruction error two ways: from H (what the driver reports) and from X directly.
    const rel = relativeReconstructionError(W, solverWeight, H, rows, cols);
    const expRel = c.json.expected.rel_recon_error!;
    expect(Math.abs(rel - expRel)).toBeLessThanOrEqual(1e-6 * expRel);
    const rowErr = out.row_recon_sq_error!.data as Float64Array;
    for (let r = 0; r < rows; r++) {
      if (fragile.has(r)) continue;
      let e = 0;
      for (let k = 0; k < n; k++) {
        let d = 0;
        for (let j = 0; j < cols; j++) d += (W[r * cols + j]! - solverWeight[r * cols + j]!) * X[k * cols + j]!;
        e += d * d;
      }
      expect(Math.abs(e - rowErr[r]!)).toBeLessThanOrEqual(1e-6 * Math.max(rowErr[r]!, 1e-300) + 1e-12);
    }
  });
});
