/**
 * Runs a linear's planned stages through the public solver APIs of
 * @sparq/pruners and @sparq/quantizers and returns the compressed layer with
 * the f32 weight the packed format decodes to.
 */
import { decodeQuantized, encodeQuantized } from '@sparq/format';
import { magnitudePrune, sparseGpt, verifyPattern, wandaPrune, type SparsityPattern } from '@sparq/pruners';
import { createColumnQuantizer, gptqQuantize, rtnQuantize, spqrQuantize } from '@sparq/quantizers';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16, SparqError } from '@sparq/tensor';
import type { CompressedLinear, QuantParts } from './compressed-linear';
import type { LinearPlan, QuantPlan } from './plan';
import { decodeSpqrLinear } from './spqr-parts';

/** Calibration statistics of one linear's input (from `CalibrationStats.result()`). */
export interface LinearStats {
  hessian: Float64Array;
  meanSquare: Float64Array;
  samples: number;
}

/** Options of {@link solveLinear}. */
export interface SolveOptions {
  /**
   * Quantizers round stored statistics to f16 (default true: the packed format
   * stores f16 scales, so the error they compensate is the error it decodes).
   * False reproduces the pure-float64 reference semantics of the fixtures.
   */
  f16Stats?: boolean;
  /**
   * Dtype an unquantized (dense / pruned) result is stored in — the source
   * dtype (default f32). The returned weight is rounded to it, so the model
   * runs exactly what is stored.
   */
  valueDtype?: 'f32' | 'f16' | 'bf16';
}

/** What {@link solveLinear} returns. */
export interface SolvedLinear {
  /** The compressed layer; `linear.weight` is the packed format's f32 decoding. */
  linear: CompressedLinear;
  /** The last solver's own float64 `Ŵ` (before format decoding). */
  solverWeight: Float64Array;
  /** Act-order permutation of GPTQ/SpQR (processing position → original column), when used. */
  perm?: Int32Array;
}

/** Solvers' `groupSize`: −1 for per-channel, as the reference semantics define it. */
function solverGroup(q: QuantPlan, cols: number): number {
  return q.groupSize === cols ? -1 : q.groupSize;
}

/** `sparsegpt 2:4 + rtn w4 g32` etc. */
export function describePlan(p: LinearPlan): string {
  const parts: string[] = [];
  const g = (q: QuantPlan) => (q.groupSize === p.cols ? 'per-channel' : `g${q.groupSize}`);
  if (p.joint && p.prune && p.quantize) return `sparsegpt ${p.prune.patternText} + joint w${p.quantize.bits} ${g(p.quantize)}${p.quantize.sym ? ' sym' : ''}`;
  if (p.prune) parts.push(`${p.prune.method} ${p.prune.patternText}`);
  if (p.quantize) {
    const q = p.quantize;
    const extra = [q.sym ? 'sym' : '', q.actOrder ? 'act-order' : '', q.staticGroups ? 'static-groups' : '', q.clipSearch ? 'clip-search' : ''].filter(Boolean);
    parts.push(`${q.method} w${q.bits} ${g(q)}${extra.length ? ` ${extra.join(' ')}` : ''}`);
  }
  return parts.join(' + ');
}

function need(stats: LinearStats | undefined, p: LinearPlan): LinearStats {
  if (!stats) throw new SparqError('E_INTERNAL', `linear ${p.name}: its solvers need calibration statistics, none were collected`);
  return stats;
}

/** `x` rounded to `dtype` (round to nearest even), as f32 values. */
function roundTo(x: Float32Array, dtype: 'f32' | 'f16' | 'bf16'): Float32Array {
  if (dtype === 'f16') return f16ArrayToF32(f32ArrayToF16(x));
  if (dtype === 'bf16') return bf16ArrayToF32(f32ArrayToBf16(x));
  return x;
}

/** Decodes group-quantization parts exactly as a reader of the packed format does (§2). */
export function decodeQuantParts(q: QuantParts, rows: number, cols: number, name: string): Float32Array {
  const m = encodeQuantized({ rows, cols, bits: q.bits, groupSize: q.groupSize, sym: q.sym, codes: q.codes, scales: q.scales, ...(q.sym ? {} : { zeros: q.zeros }) }, name);
  return decodeQuantized(m, undefined, name);
}

/**
 * Compresses one linear: prune (magnitude / Wanda / SparseGPT, optionally
 * joint with a column quantizer), then quantize (RTN after pruning; RTN,
 * GPTQ or SpQR alone). Every N:M and unstructured mask is checked with
 * `verifyPattern`. Quantizers run with `f16Stats` so the weight they
 * compensate is the weight the f16-scaled format decodes; the returned
 * `weight` *is* that decoding.
 */
export function solveLinear(p: LinearPlan, w: Float64Array, stats: LinearStats | undefined, opts: SolveOptions = {}): SolvedLinear {
  const { name, rows, cols } = p;
  const f16Stats = opts.f16Stats ?? true;
  let perm: Int32Array | undefined;
  const wm = { rows, cols, data: w };
  const valueDtype = opts.valueDtype ?? 'f32';
  const out: CompressedLinear = { name, rows, cols, method: describePlan(p), weight: new Float32Array(0), valueDtype };
  let cur = w;
  let pattern: SparsityPattern | undefined;
  if (p.prune) {
    const pr = p.prune;
    pattern = pr.pattern;
    let res: { weight: Float64Array; mask: Uint8Array };
    if (p.joint) {
      const q = p.quantize!;
      const cq = createColumnQuantizer(wm, { bits: q.bits, groupSize: solverGroup(q, cols), sym: q.sym, f16Stats });
      res = sparseGpt(wm, need(stats, p).hessian, { pattern, blockSize: pr.blockSize, percDamp: pr.percDamp, tieRule: pr.tieRule, quantizer: cq, name });
      const r = cq.result();
      out.quant = { bits: q.bits, groupSize: q.groupSize, sym: q.sym, codes: r.codes, scales: r.scales, zeros: r.zeros };
    } else if (pr.method === 'magnitude') {
      res = magnitudePrune(wm, pattern, { tieRule: pr.tieRule });
    } else if (pr.method === 'wanda') {
      res = wandaPrune(wm, need(stats, p).meanSquare, pattern);
    } else {
      res = sparseGpt(wm, need(stats, p).hessian, { pattern, blockSize: pr.blockSize, percDamp: pr.percDamp, tieRule: pr.tieRule, name });
    }
    // Wanda has no tie rule: it prunes exactly floor(sparsity·cols) per row.
    verifyPattern(res.mask, rows, cols, pattern, { tieRule: pr.method === 'wanda' ? 'exact' : pr.tieRule, tensor: name });
    out.pattern = pr.patternText;
    out.mask = res.mask;
    cur = res.weight;
  }
  if (p.quantize && !p.joint) {
    const q = p.quantize;
    const spec = { bits: q.bits, groupSize: solverGroup(q, cols), sym: q.sym, f16Stats };
    const cw = { rows, cols, data: cur };
    if (q.method === 'spqr') {
      const r = spqrQuantize(cw, need(stats, p).hessian, {
        ...spec,
        blockSize: q.blockSize,
        percDamp: q.percDamp,
        actOrder: q.actOrder,
        outlierThreshold: q.spqr.outlierThreshold,
        statBits: q.spqr.statBits,
        statGroupRows: q.spqr.statGroupRows,
      });
      const { weight: solverWeight, ...parts } = r;
      out.spqr = parts as unknown as Record<string, unknown>;
      out.weight = decodeSpqrLinear(out);
      return { linear: out, solverWeight, ...(r.perm ? { perm: r.perm } : {}) };
    }
    const r =
      q.method === 'rtn'
        ? rtnQuantize(cw, { ...spec, ...(q.clipSearch ? { clipSearch: true } : {}) })
        : gptqQuantize(cw, need(stats, p).hessian, { ...spec, blockSize: q.blockSize, percDamp: q.percDamp, actOrder: q.actOrder, staticGroups: q.staticGroups });
    out.quant = { bits: q.bits, groupSize: q.groupSize, sym: q.sym, codes: r.codes, scales: r.scales, zeros: r.zeros };
    perm = r.perm;
    cur = r.weight;
  }
  if (out.quant) {
    out.weight = decodeQuantParts(out.quant, rows, cols, name);
    if (out.mask) {
      // Pruned positions must decode to exactly 0 (integer zero-points guarantee it); a violation would silently un-prune.
      for (let i = 0; i < out.mask.length; i++) {
        if (out.mask[i] && out.weight[i] !== 0) throw new SparqError('E_INTERNAL', `linear ${name}: pruned entry ${i} decodes to ${out.weight[i]} after quantization`);
      }
    }
  } else {
    out.weight = roundTo(Float32Array.from(cur), valueDtype);
  }
  return { linear: out, solverWeight: cur, ...(perm ? { perm } : {}) };
}
