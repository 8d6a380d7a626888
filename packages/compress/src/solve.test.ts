import { createRng, f16ToF32, f32ToF16, type Tensor } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { deserializeLinear, relativeReconstructionError, serializeLinear } from './compressed-linear';
import { recipeFromFlags } from './flags';
import { planCompression } from './plan';
import { validateRecipe } from './recipe';
import { solveLinear } from './solve';

/** Random correlated calibration inputs X (n × cols) and H = 2XᵀX/n, in float64. */
function data(rows: number, cols: number, n: number, seed: number) {
  const rng = createRng(seed);
  const W = Float64Array.from({ length: rows * cols }, () => 0.02 * rng.normal());
  const X = new Float64Array(n * cols);
  for (let k = 0; k < n; k++) {
    let prev = 0;
    for (let j = 0; j < cols; j++) X[k * cols + j] = prev = 0.6 * prev + rng.normal() * (j % 13 === 0 ? 8 : 1);
  }
  const H = new Float64Array(cols * cols);
  const meanSquare = new Float64Array(cols);
  for (let k = 0; k < n; k++) {
    for (let a = 0; a < cols; a++) {
      meanSquare[a] += X[k * cols + a]! ** 2 / n;
      for (let b = 0; b < cols; b++) H[a * cols + b] += (2 / n) * X[k * cols + a]! * X[k * cols + b]!;
    }
  }
  return { W, X, H, meanSquare };
}

function plan(stages: unknown[], rows: number, cols: number) {
  return planCompression(validateRecipe({ stages }), [{ name: 'l', rows, cols }]).linears.get('l')!;
}

describe('relativeReconstructionError', () => {
  it('equals ‖WXᵀ − ŴXᵀ‖²/‖WXᵀ‖² computed from X directly', () => {
    const { W, X, H } = data(8, 24, 40, 1);
    const rng = createRng(2);
    const What = W.map((v) => v + 0.003 * rng.normal());
    let num = 0;
    let den = 0;
    for (let r = 0; r < 8; r++) {
      for (let k = 0; k < 40; k++) {
        let y = 0;
        let yh = 0;
        for (let j = 0; j < 24; j++) {
          y += W[r * 24 + j]! * X[k * 24 + j]!;
          yh += What[r * 24 + j]! * X[k * 24 + j]!;
        }
        num += (y - yh) ** 2;
        den += y * y;
      }
    }
    expect(relativeReconstructionError(W, What, H, 8, 24)).toBeCloseTo(num / den, 12);
  });
});

describe('solveLinear', () => {
  it('f16 statistics: the decoded weight follows §2 from f16 scales, and pruned entries stay exactly 0', () => {
    const { W, H, meanSquare } = data(16, 32, 64, 3);
    const { linear, solverWeight } = solveLinear(plan([{ type: 'joint', pattern: '2:4', bits: 4, group: 16 }], 16, 32), W, { hessian: H, meanSquare, samples: 64 });
    const q = linear.quant!;
    for (let r = 0; r < 16; r++) {
      for (let c = 0; c < 32; c++) {
        const i = r * 32 + c;
        const g = r * 2 + Math.floor(c / 16);
        // The solver ran with f16 scales: they are exactly representable, so the §2 decode is fround(scale·(q − zero)).
        expect(Math.fround(q.scales[g]!)).toBe(q.scales[g]);
        expect(linear.weight[i]).toBe(Math.fround(q.scales[g]! * (q.codes[i]! - q.zeros[g]!)));
        if (linear.mask![i]) expect(linear.weight[i]).toBe(0);
        expect(Math.abs(linear.weight[i]! - solverWeight[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(solverWeight[i]!) + 1e-12);
      }
    }
  });

  it('stores pruned weights of an f16 source as f16 values', () => {
    const { W, H, meanSquare } = data(4, 16, 32, 4);
    const { linear } = solveLinear(plan([{ type: 'prune', method: 'sparsegpt', pattern: '50%' }], 4, 16), W, { hessian: H, meanSquare, samples: 32 }, { valueDtype: 'f16' });
    expect(linear.valueDtype).toBe('f16');
    // Every value survives a round trip through f16 unchanged, and the update moved some kept weights off W.
    for (const v of linear.weight) expect(f16ToF32(f32ToF16(v))).toBe(v);
    expect(linear.weight.some((v, i) => v !== 0 && v !== Math.fround(W[i]!))).toBe(true);
  });

  it.each([
    ['spqr', [{ type: 'quantize', method: 'spqr', bits: 3, group: 8, actOrder: true }]],
    ['joint', [{ type: 'joint', pattern: '2:4', bits: 4, group: 8 }]],
    ['gptq act-order', [{ type: 'quantize', method: 'gptq', bits: 3, group: 8, actOrder: true, staticGroups: true }]],
    ['wanda', [{ type: 'prune', method: 'wanda', pattern: '4:8' }]],
  ])('%s: serialisation round-trips every part bit for bit', async (_k, stages) => {
    const { W, H, meanSquare } = data(20, 32, 64, 5);
    const { linear } = solveLinear(plan(stages as unknown[], 20, 32), W, { hessian: H, meanSquare, samples: 64 });
    const { tensors, meta } = serializeLinear(linear);
    const byName = new Map<string, Tensor>(tensors);
    // Through JSON, as the block file's metadata travels.
    const back = await deserializeLinear(JSON.parse(JSON.stringify(meta)), async (n) => byName.get(n)!, 'mem');
    expect(back).toEqual(linear);
  });
});

describe('recipeFromFlags', () => {
  it('maps the shorthand flags to stages', () => {
    expect(recipeFromFlags({ prune: 'wanda', pattern: '2:4' }).stages).toEqual([
      { type: 'prune', method: 'wanda', pattern: '2:4', blockSize: 128, percDamp: 0.01, tieRule: 'exact' },
    ]);
    const r = recipeFromFlags({ prune: 'sparsegpt', pattern: '50%', quant: 'rtn', bits: 3, group: 32, sym: true, calib: 'c.txt', samples: 8, seqlen: 64, seed: 2 });
    expect(r.stages.map((s) => s.type)).toEqual(['prune', 'quantize']);
    expect(r.stages[1]).toMatchObject({ method: 'rtn', bits: 3, group: 32, sym: true });
    expect(r.calibration).toEqual({ source: 'c.txt', samples: 8, seqlen: 64, seed: 2, batchSize: 8 });
    expect(recipeFromFlags({ prune: 'sparsegpt', pattern: '2:4', quant: 'gptq', bits: 4, joint: true }).stages).toEqual([
      { type: 'joint', pattern: '2:4', bits: 4, group: -1, sym: false, blockSize: 128, percDamp: 0.01, tieRule: 'exact' },
    ]);
    // Act-order with groups implies static groups (contiguous groups are what the format stores).
    expect(recipeFromFlags({ quant: 'gptq', group: 32, actOrder: true }).stages[0]).toMatchObject({ actOrder: true, staticGroups: true });
    expect(recipeFromFlags({ quant: 'gptq', actOrder: true }).stages[0]).toMatchObject({ actOrder: true, staticGroups: false });
  });

  it('names the flag in errors', () => {
    expect(() => recipeFromFlags({ quant: 'rtn', bits: 5 })).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringMatching(/^--bits: must be one of/) }));
    expect(() => recipeFromFlags({ quant: 'awq' })).toThrow(expect.objectContaining({ message: expect.stringMatching(/^--quant: must be one of rtn \| gptq \| spqr/) }));
    expect(() => recipeFromFlags({ quant: 'rtn', samples: 0 })).toThrow(expect.objectContaining({ message: expect.stringMatching(/^--samples:/) }));
    expect(() => recipeFromFlags({ bits: 4 })).toThrow(expect.objectContaining({ message: '--bits need --quant rtn|gptq|spqr' }));
  });
});
