/**
 * The pruners against the independent float64 NumPy reference fixtures
 * (`../shared/reference/layer`, or `SPARQ_LAYER_FIXTURES`): every magnitude,
 * Wanda and SparseGPT case, joint 4-bit ones included, within the README
 * tolerances. A case that cannot run fails; nothing is skipped.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnQuantizer } from '@sparq/format';
import { loadLayerCases, type LayerCase } from '@sparq/test-utils';
import { magnitudePrune } from './magnitude';
import { parsePattern, verifyPattern, type SparsityPattern } from './pattern';
import { sparseGpt } from './sparsegpt';
import { wandaPrune } from './wanda';
import type { PruneResult } from './weight';

/** np.round / torch.round: round half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The README's min/max quantizer, asymmetric, one group per output row, grid
 * fixed up front from the ORIGINAL weights (before SparseGPT's dead-column fix),
 * so no beginGroup. Records codes for comparison with the fixture.
 */
function minMaxPerChannelQuantizer(W: Float64Array, rows: number, cols: number, bits: number) {
  const maxq = 2 ** bits - 1;
  const scale = new Float64Array(rows);
  const zero = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let xmin = 0;
    let xmax = 0;
    for (let c = 0; c < cols; c++) {
      xmin = Math.min(xmin, W[r * cols + c]!);
      xmax = Math.max(xmax, W[r * cols + c]!);
    }
    if (xmin === 0 && xmax === 0) {
      xmin = -1;
      xmax = 1;
    }
    scale[r] = (xmax - xmin) / maxq;
    zero[r] = roundHalfEven(-xmin / scale[r]!);
  }
  const codes = new Uint8Array(rows * cols);
  const calls: number[] = [];
  const quantizer: ColumnQuantizer = {
    bits,
    groupSize: cols,
    quantize(column, col) {
      calls.push(col);
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        const q = Math.min(Math.max(roundHalfEven(column[r]! / scale[r]!) + zero[r]!, 0), maxq);
        codes[r * cols + col] = q;
        out[r] = scale[r]! * (q - zero[r]!);
      }
      return out;
    },
  };
  return { quantizer, codes, scale, zero, calls };
}

function patternOf(c: LayerCase): SparsityPattern {
  const p = c.json.params as { sparsity?: number; prune_n?: number; prune_m?: number };
  if (p.prune_n && p.prune_m) {
    // The reference's prune_n is the number PRUNED per group of prune_m; our N counts those kept.
    return { kind: 'nm', n: p.prune_m - p.prune_n, m: p.prune_m };
  }
  if (typeof p.sparsity !== 'number') throw new Error(`${c.id}: no sparsity in params`);
  return { kind: 'unstructured', sparsity: p.sparsity };
}

/** ‖W Xᵀ − Ŵ Xᵀ‖_F² / ‖W Xᵀ‖_F², float64. */
function relReconError(c: LayerCase, What: Float64Array): { rel: number; ref: number } {
  const { rows, cols, n, W, X } = c;
  let num = 0;
  let den = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      let y = 0;
      let dy = 0;
      for (let j = 0; j < cols; j++) {
        const x = X[k * cols + j]!;
        y += W[r * cols + j]! * x;
        dy += (W[r * cols + j]! - What[r * cols + j]!) * x;
      }
      num += dy * dy;
      den += y * y;
    }
  }
  return { rel: num / den, ref: den };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function checkAgainstFixture(c: LayerCase, res: PruneResult, pattern: SparsityPattern): void {
  const expMask = c.outputs.mask!.data as Uint8Array;
  const expW = c.outputs.W_hat!.data as Float64Array;
  expect(res.mask.length).toBe(expMask.length);
  let firstDiff = -1;
  for (let i = 0; i < expMask.length && firstDiff < 0; i++) if (res.mask[i] !== expMask[i]) firstDiff = i;
  expect(firstDiff, `${c.id}: first mask difference at flat index ${firstDiff}`).toBe(-1);
  let maxErr = 0;
  for (let i = 0; i < expW.length; i++) maxErr = Math.max(maxErr, Math.abs(res.weight[i]! - expW[i]!));
  expect(maxErr).toBeLessThanOrEqual(1e-6 * maxAbs(expW));
  const { rel, ref } = relReconError(c, res.weight);
  expect(Math.abs(ref - c.json.expected.ref_output_sq_norm!)).toBeLessThanOrEqual(1e-9 * ref);
  expect(Math.abs(rel - c.json.expected.rel_recon_error!)).toBeLessThanOrEqual(1e-6 * c.json.expected.rel_recon_error!);
  let pruned = 0;
  for (let i = 0; i < res.mask.length; i++) pruned += res.mask[i]!;
  expect(pruned).toBe(c.json.expected.num_pruned);
  if (pattern.kind === 'nm') verifyPattern(res.mask, c.rows, c.cols, pattern);
}

function meanSquareOf(c: LayerCase): Float64Array {
  const ms = new Float64Array(c.cols);
  for (let k = 0; k < c.n; k++) for (let j = 0; j < c.cols; j++) ms[j] += c.X[k * c.cols + j]! ** 2;
  for (let j = 0; j < c.cols; j++) ms[j] /= c.n;
  return ms;
}

const magnitude = loadLayerCases('magnitude');
const wanda = loadLayerCases('wanda');
const sgpt = loadLayerCases('sparsegpt');

describe('layer fixtures', () => {
  it('the fixture set holds every expected case (4 inputs × 3 magnitude, 3 Wanda, 5 SparseGPT variants)', () => {
    expect(magnitude).toHaveLength(12);
    expect(wanda).toHaveLength(12);
    expect(sgpt).toHaveLength(20);
    expect(sgpt.filter((c) => c.variant.endsWith('_w4'))).toHaveLength(8);
  });

  for (const c of magnitude) {
    it(`magnitude ${c.id}`, () => {
      const pattern = patternOf(c);
      const res = magnitudePrune({ rows: c.rows, cols: c.cols, data: c.W }, pattern, { tieRule: 'reference' });
      checkAgainstFixture(c, res, pattern);
    });
  }

  for (const c of wanda) {
    it(`wanda ${c.id}`, () => {
      const pattern = patternOf(c);
      const ms = meanSquareOf(c);
      const scaler = c.outputs.wanda_scaler!.data as Float64Array;
      for (let j = 0; j < c.cols; j++) expect(Math.abs(ms[j]! - scaler[j]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, scaler[j]!));
      const res = wandaPrune({ rows: c.rows, cols: c.cols, data: c.W }, ms, pattern);
      checkAgainstFixture(c, res, pattern);
    });
  }

  for (const c of sgpt) {
    it(`sparsegpt ${c.id}`, () => {
      const pattern = patternOf(c);
      const p = c.json.params as { blocksize: number; percdamp: number; bits?: number; sym?: boolean; groupsize?: number };
      const joint = p.bits !== undefined;
      if (joint) {
        // Only the quantizer the README specifies for these cases.
        expect(p.sym).toBe(false);
        expect(p.groupsize).toBe(-1);
      }
      const q = joint ? minMaxPerChannelQuantizer(c.W, c.rows, c.cols, p.bits!) : undefined;
      const res = sparseGpt({ rows: c.rows, cols: c.cols, data: c.W }, c.H, {
        pattern,
        blockSize: p.blocksize,
        percDamp: p.percdamp,
        quantizer: q?.quantizer,
        tieRule: 'reference',
      });
      checkAgainstFixture(c, res, pattern);
      if (q) {
        expect(q.calls).toEqual(Array.from({ length: c.cols }, (_, j) => j));
        expect(Array.from(q.codes)).toEqual(Array.from(c.outputs.codes!.data));
        const scales = c.outputs.scales!.data as Float64Array;
        for (let r = 0; r < c.rows; r++) expect(Math.abs(q.scale[r]! - scales[r]!)).toBeLessThanOrEqual(1e-6 * maxAbs(scales));
        expect(Array.from(q.zero)).toEqual(Array.from(c.outputs.zeros!.data));
        for (let i = 0; i < res.mask.length; i++) if (res.mask[i]) expect(Object.is(res.weight[i], 0)).toBe(true);
      }
      let zeros = 0;
      for (let i = 0; i < res.weight.length; i++) zeros += res.weight[i] === 0 ? 1 : 0;
      expect(zeros).toBe(c.json.expected.num_zero_in_W_hat);
    });
  }

  it('parsePattern agrees with the fixture variants', () => {
    expect(parsePattern('2:4')).toEqual(patternOf(sgpt.find((c) => c.variant === 'sparsegpt_2of4')!));
    expect(parsePattern('4:8')).toEqual(patternOf(sgpt.find((c) => c.variant === 'sparsegpt_4of8')!));
  });
});
