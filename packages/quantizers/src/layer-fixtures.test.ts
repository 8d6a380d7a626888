/**
 * Every `rtn` and `gptq` case of the layer-level reference fixtures
 * (`SPARQ_LAYER_FIXTURES`, default ../shared/reference/layer), matched within
 * the README tolerances. A case this file cannot run fails; nothing is skipped.
 */
import { loadLayerCases, type LayerCase } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { gptqQuantize, rtnQuantize, type QuantResult } from './index';

const cases = [...loadLayerCases('rtn'), ...loadLayerCases('gptq')];

/** Runs the case's algorithm with its params; unknown params are an error, never ignored. */
function run(c: LayerCase): QuantResult {
  const p = c.json.params as Record<string, number | boolean>;
  const known = c.algorithm === 'rtn' ? ['bits', 'sym', 'groupsize'] : ['bits', 'sym', 'groupsize', 'actorder', 'static_groups', 'blocksize', 'percdamp'];
  const unknown = Object.keys(p).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`${c.id}: unsupported params ${unknown.join(', ')}`);
  const w = { rows: c.rows, cols: c.cols, data: c.W };
  const spec = { bits: p.bits as number, groupSize: p.groupsize as number, sym: p.sym as boolean };
  if (c.algorithm === 'rtn') return rtnQuantize(w, spec);
  return gptqQuantize(w, c.H, {
    ...spec,
    actOrder: p.actorder as boolean,
    staticGroups: p.static_groups as boolean,
    blockSize: p.blocksize as number,
    percDamp: p.percdamp as number,
  });
}

/** `‖(W − Ŵ)_r Xᵀ‖²` per row and `‖W Xᵀ‖²`, straightforward float64 loops. */
function reconErrors(c: LayerCase, what: Float64Array): { rowErr: Float64Array; ref: number } {
  const { rows, cols, n, W, X } = c;
  const rowErr = new Float64Array(rows);
  let ref = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      let e = 0;
      let y = 0;
      for (let j = 0; j < cols; j++) {
        e += (W[r * cols + j]! - what[r * cols + j]!) * X[k * cols + j]!;
        y += W[r * cols + j]! * X[k * cols + j]!;
      }
      rowErr[r] += e * e;
      ref += y * y;
    }
  }
  return { rowErr, ref };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Max |a − b| over the rows not in `skip` (tensor `rows × width`). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, skip: Set<number>): number {
  const width = b.length / rows;
  let m = 0;
  for (let r = 0; r < rows; r++) {
    if (skip.has(r)) continue;
    for (let i = r * width; i < (r + 1) * width; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  }
  return m;
}

describe('layer reference fixtures: rtn and gptq', () => {
  it('finds every RTN and GPTQ variant on every input', () => {
    const variants = new Set(cases.map((c) => c.variant));
    for (const v of [
      'rtn_w4_perchannel_asym',
      'rtn_w4_g32_asym',
      'rtn_w3_perchannel_asym',
      'rtn_w3_g32_asym',
      'rtn_w4_g32_sym',
      'gptq_w4_perchannel_asym',
      'gptq_w4_g32_asym',
      'gptq_w3_g32_asym',
      'gptq_w4_g32_sym',
      'gptq_w4_g32_asym_actorder_static',
      'gptq_w4_perchannel_asym_actorder',
    ]) {
      expect(variants.has(v), v).toBe(true);
    }
    expect(cases.length).toBeGreaterThanOrEqual(44);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const res = run(c);
    const out = c.outputs;
    const fragile = new Set(c.json.tie_margins?.fragile_rows ?? []);
    const rows = c.rows;
    for (const name of ['W_hat', 'codes', 'scales', 'zeros']) expect(out[name], `${c.id}: output ${name}`).toBeDefined();

    // Codes and zeros identical (fragile rows excepted).
    expect(maxDiff(res.codes, out.codes!.data, rows, fragile), 'codes').toBe(0);
    expect(maxDiff(res.zeros, out.zeros!.data, rows, fragile), 'zeros').toBe(0);
    // Scales and W_hat within 1e-6·max|b|.
    expect(maxDiff(res.scales, out.scales!.data, rows, fragile)).toBeLessThanOrEqual(1e-6 * maxAbs(out.scales!.data));
    expect(maxDiff(res.weight, out.W_hat!.data, rows, fragile)).toBeLessThanOrEqual(1e-6 * maxAbs(out.W_hat!.data));
    // Permutation identical.
    if (out.perm) {
      expect(res.perm, 'perm').toBeDefined();
      expect(Array.from(res.perm!)).toEqual(Array.from(out.perm.data));
    } else expect(res.perm).toBeUndefined();

    // Reconstruction error within 1e-6 relative: per row (non-fragile) and, without fragile rows, in total.
    const { rowErr, ref } = reconErrors(c, res.weight);
    expect(Math.abs(ref - c.json.expected.ref_output_sq_norm!)).toBeLessThanOrEqual(1e-9 * ref);
    const expRows = out.row_recon_sq_error!.data;
    for (let r = 0; r < rows; r++) {
      if (fragile.has(r)) continue;
      expect(Math.abs(rowErr[r]! - expRows[r]!), `row ${r} recon error`).toBeLessThanOrEqual(1e-6 * expRows[r]! + 1e-300);
    }
    let total = 0;
    for (let r = 0; r < rows; r++) total += rowErr[r]!;
    const rel = total / ref;
    const expected = c.json.expected.rel_recon_error!;
    if (fragile.size === 0) expect(Math.abs(rel - expected)).toBeLessThanOrEqual(1e-6 * expected);
    else expect(Math.abs(rel - expected)).toBeLessThanOrEqual(0.05 * expected); // a fragile row may round the other way
  });
});
