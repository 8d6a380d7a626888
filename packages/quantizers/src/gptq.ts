/**
 * GPTQ (Frantar et al. 2022): quantize columns one at a time and spread each
 * column's rounding error over the not-yet-quantized columns through the
 * inverse-Hessian factor (the OBS update), in blocks of 128 with eager
 * in-block and lazy cross-block updates. Follows the IST-DASLab reference
 * and `../shared/reference/layer/README.md` step by step, including its
 * quirk of fitting non-static groups on the block-start weights.
 */
import { SparqError } from '@sparq/tensor';
import { dequant, fitGrid, gridConfig, quantCode } from './grid';
import { prepareHessian, type PreparedHessian } from './hessian';
import { lazyUpdate, permuteColumns, unpermuteColumns } from './obs';
import type { ClipSearchOptions, QuantResult, QuantSpec, WeightMatrix } from './types';
import { checkPositiveInt, checkSpec, checkWeight } from './validate';

/** Options of {@link gptqQuantize}. */
export interface GptqOptions extends QuantSpec {
  /** Columns per lazy-update block (default 128). Affects results only through the non-static group quirk. */
  blockSize?: number;
  /** Dampening as a fraction of the mean Hessian diagonal (default 0.01). */
  percDamp?: number;
  /** Quantize columns by decreasing `diag(H)` (default false). With groups, requires `staticGroups`. */
  actOrder?: boolean;
  /** Fit every group's grid up front on the (dead-fixed) original weights (default false). */
  staticGroups?: boolean;
  /** Clip search per grid fit (GPTQ's `mse=True`); default off (plain min/max, as the fixtures). */
  clipSearch?: boolean | ClipSearchOptions;
  /**
   * A {@link prepareHessian} result to reuse (layers sharing the same inputs share it); must match `percDamp`
   * and `actOrder`. When given, `hessian` is not read and may be empty.
   */
  prepared?: PreparedHessian;
}

/**
 * Quantizes `w` (`rows × cols`) with GPTQ, given `hessian` = `2·XᵀX/n` (`cols × cols`, row-major).
 * Dead columns (`H_jj = 0`) are zeroed; `perm` is returned for act-order; all outputs are in original column order.
 * @example
 * const r = gptqQuantize(w, h, { bits: 4, groupSize: 128, sym: false, actOrder: true, staticGroups: true });
 */
export function gptqQuantize(w: WeightMatrix, hessian: Float64Array, opts: GptqOptions): QuantResult {
  const what = 'gptqQuantize';
  checkWeight(w, what);
  const gs = checkSpec(opts, w.cols, what);
  const { rows, cols } = w;
  const perChannel = opts.groupSize === -1;
  const staticGroups = opts.staticGroups ?? false;
  const blockSize = opts.blockSize ?? 128;
  checkPositiveInt(blockSize, 'blockSize', what);
  if (opts.actOrder && !perChannel && !staticGroups) {
    throw new SparqError('E_ARG', `${what}: act-order with groups needs staticGroups (groups must cover consecutive original columns)`, {
      details: { expected: 'staticGroups: true', found: false },
      hint: 'pass staticGroups: true, or groupSize: -1',
    });
  }
  const prep = opts.prepared ?? prepareHessian(hessian, cols, { percDamp: opts.percDamp ?? 0.01, actOrder: opts.actOrder ?? false, what });
  if (prep.cols !== cols || Boolean(prep.perm) !== Boolean(opts.actOrder)) {
    throw new SparqError('E_ARG', `${what}: the prepared Hessian (${prep.cols} columns, act-order ${Boolean(prep.perm)}) does not match this call (${cols} columns, act-order ${Boolean(opts.actOrder)})`, {
      details: { expected: { cols, actOrder: Boolean(opts.actOrder) }, found: { cols: prep.cols, actOrder: Boolean(prep.perm) } },
    });
  }
  const { U, dead, perm } = prep;
  const cfg = gridConfig(opts.bits, opts.sym, opts.f16Stats ?? false, opts.clipSearch);
  const G = cols / gs;
  const scales = new Float64Array(rows * G);
  const zeros = new Float64Array(rows * G);
  const sz = new Float64Array(2);
  const src = w.data;

  // 1. Per-channel grid from the original W, before the dead fix.
  if (perChannel) {
    for (let r = 0; r < rows; r++) {
      fitGrid(src, r * cols, cols, cfg, sz);
      scales[r] = sz[0]!;
      zeros[r] = sz[1]!;
    }
  }
  // 2. Dead fix on a working copy; 3. static groups from it; 4. act-order permutation.
  let W: Float64Array = Float64Array.from(src);
  for (let j = 0; j < cols; j++) if (dead[j]) for (let r = 0; r < rows; r++) W[r * cols + j] = 0;
  if (!perChannel && staticGroups) {
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < G; g++) {
        fitGrid(W, r * cols + g * gs, gs, cfg, sz);
        scales[r * G + g] = sz[0]!;
        zeros[r * G + g] = sz[1]!;
      }
    }
  }
  if (perm) W = permuteColumns(W, rows, cols, perm);

  // 5. Blocked sequential quantization. Within a block every row is independent (its grids come from the
  // block-start W or were fitted up front), so rows are processed one by one in an L1-resident buffer.
  const codesP = new Uint8Array(rows * cols);
  const buf = new Float64Array(blockSize);
  const err = new Float64Array(rows * blockSize);
  const { maxq, f16 } = cfg;
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const count = i2 - i1;
    for (let r = 0; r < rows; r++) {
      const wo = r * cols;
      const eo = r * count;
      for (let i = 0; i < count; i++) buf[i] = W[wo + i1 + i]!;
      for (let i = 0; i < count; i++) {
        const j = i1 + i;
        let g = 0;
        if (!perChannel) {
          if (staticGroups) g = Math.floor((perm ? perm[j]! : j) / gs);
          else {
            g = Math.floor(j / gs);
            // 6. Reference quirk: a group starting inside the block is fitted on the *outer* W (block-start values).
            if (j % gs === 0) {
              fitGrid(W, wo + j, gs, cfg, sz);
              scales[r * G + g] = sz[0]!;
              zeros[r * G + g] = sz[1]!;
            }
          }
        }
        const scale = scales[r * G + g]!;
        const zero = zeros[r * G + g]!;
        const x = buf[i]!;
        const q = quantCode(x, scale, zero, maxq);
        const xq = dequant(q, scale, zero, f16);
        codesP[wo + j] = q;
        // Columns before j are never read again (groups look forward only): store Ŵ in place.
        W[wo + j] = xq;
        const e = (x - xq) / U[j * cols + j]!;
        err[eo + i] = e;
        if (e !== 0) {
          const uo = j * cols + i1;
          for (let t = i + 1; t < count; t++) buf[t] -= e * U[uo + t]!;
        }
      }
    }
    if (i2 < cols) lazyUpdate(W, err, U, rows, cols, i1, i2);
  }

  // 7. Un-permute.
  const weight = perm ? unpermuteColumns(W, rows, cols, perm) : W;
  const codes = perm ? unpermuteColumns(codesP, rows, cols, perm) : codesP;
  return perm ? { weight, codes, scales, zeros, perm: Int32Array.from(perm) } : { weight, codes, scales, zeros };
}
