/**
 * SpQR (Dettmers et al. 2023): GPTQ-style sequential quantization with small
 * first-level groups whose scales and zero-points are themselves quantized
 * (§6), plus unstructured outliers kept in f16 (§5). Follows the reference
 * `spqr_engine.py`: outliers are found per group by the leave-one-out
 * error-reduction criterion and excluded from the group's grid, then
 * confirmed per weight when its (Hessian-scaled) rounding error exceeds the
 * threshold; every error — outliers' f16 rounding included — is fed back
 * through the inverse-Hessian factor.
 */
import { SparqError } from '@sparq/tensor';
import { createBilevelStat, fitSpqrGrid, quantizeStatColumn, spqrCode, type BilevelStatValues } from './bilevel';
import { roundToF16 } from './grid';
import { prepareHessian, type PreparedHessian } from './hessian';
import { lazyUpdate, permuteColumns, unpermuteColumns } from './obs';
import type { WeightMatrix } from './types';
import { checkPositiveInt, checkSpec, checkWeight } from './validate';

/** Options of {@link spqrQuantize}. */
export interface SpqrOptions {
  /** Bits of the base codes (default 3). */
  bits?: number;
  /** First-level group size in columns, a divisor of `cols` (default 16). */
  groupSize?: number;
  /** Bits of the second-level codes of scales and zero-points (default 3). */
  statBits?: number;
  /** Rows per second-level group (default 16). */
  statGroupRows?: number;
  /**
   * Outlier threshold relative to the layer's mean `var(W[:, j]) / U_jj²` (default 0.2; `Infinity` disables
   * outliers). A weight is an outlier when its squared scaled error `((w − ŵ)/U_jj)²` exceeds threshold × that mean.
   */
  outlierThreshold?: number;
  /** Columns per lazy-update block (default 128). */
  blockSize?: number;
  /** Dampening as a fraction of the mean Hessian diagonal (default 0.01). */
  percDamp?: number;
  /**
   * Process columns by decreasing `diag(H)`. Groups then stay on consecutive *original* columns (as the packed
   * layout needs), so their grids are fitted up front on the dead-fixed weights (GPTQ's static groups).
   */
  actOrder?: boolean;
  /** Round second-level stats and outlier values to f16 before use (what `SpqrMatrix` stores). Default false. */
  f16Stats?: boolean;
  /** A {@link prepareHessian} result to reuse; must match `percDamp` and `actOrder`. */
  prepared?: PreparedHessian;
}

/** Outliers in CSR form (§5), original column order, columns strictly increasing per row. */
export interface SpqrOutliers {
  /** `[rows + 1]` offsets. */
  rowPtr: Uint32Array;
  /** `[nnz]` columns (u16 when `cols ≤ 65536`, as stored). */
  cols: Uint16Array | Uint32Array;
  /** `[nnz]` values (f16-exact when `f16Stats`); `weight` holds exactly these at outlier positions. */
  values: Float32Array;
}

/** Everything needed to build an `SpqrMatrix`, plus the dequantized weight. */
export interface SpqrResult {
  rows: number;
  cols: number;
  bits: number;
  groupSize: number;
  /** Dequantized `Ŵ` (outliers included), original column order. */
  weight: Float64Array;
  /** `rows × cols` base codes, original order (at outlier positions: the code of 0, ignored by decoders). */
  codes: Uint8Array;
  /** First-level scales, quantized per §6. */
  scales: BilevelStatValues;
  /** First-level zero-points, quantized per §6. */
  zeros: BilevelStatValues;
  outliers: SpqrOutliers;
  /**
   * Storage cost in bits per weight, exactly:
   * `(rows·cols·bits + rows·G·(sb_s + sb_z) + 2·ceil(rows/g2)·G·(16 + 16) + nnz·(16 + cb) + 32·(rows + 1)) / (rows·cols)`
   * with `G = cols/groupSize`, `sb_*` the stat code bits, `g2` the rows per second-level group (f16 scale and zero
   * for each of the two stats), `cb` the outlier column index bits (16, or 32 when `cols > 65536`), and u32 row pointers.
   */
  averageBits: number;
  /** Act-order only: processing position → original column. */
  perm?: Int32Array;
}

/**
 * Storage bits per weight of an SpQR layer (formula in {@link SpqrResult.averageBits}).
 */
export function spqrAverageBits(p: { rows: number; cols: number; bits: number; groupSize: number; statBits: number; statGroupRows: number; outliers: number }): number {
  const { rows, cols } = p;
  const G = cols / p.groupSize;
  const colBits = cols > 65536 ? 32 : 16;
  const total =
    rows * cols * p.bits + rows * G * (2 * p.statBits) + 2 * Math.ceil(rows / p.statGroupRows) * G * 32 + p.outliers * (16 + colBits) + 32 * (rows + 1);
  return total / (rows * cols);
}

/**
 * Quantizes `w` with SpQR given `hessian` = `2·XᵀX/n` (`cols × cols`).
 * @example
 * const r = spqrQuantize(w, h, { bits: 3, groupSize: 16, outlierThreshold: 0.2, f16Stats: true });
 * console.log(r.averageBits, r.outliers.values.length);
 */
export function spqrQuantize(w: WeightMatrix, hessian: Float64Array, opts: SpqrOptions = {}): SpqrResult {
  const what = 'spqrQuantize';
  checkWeight(w, what);
  const bits = opts.bits ?? 3;
  const gs = checkSpec({ bits, groupSize: opts.groupSize ?? 16 }, w.cols, what);
  const statBits = opts.statBits ?? 3;
  checkSpec({ bits: statBits, groupSize: -1 }, w.cols, `${what} (statBits)`, 1);
  const statGroupRows = opts.statGroupRows ?? 16;
  checkPositiveInt(statGroupRows, 'statGroupRows', what);
  const blockSize = opts.blockSize ?? 128;
  checkPositiveInt(blockSize, 'blockSize', what);
  const rel = opts.outlierThreshold ?? 0.2;
  if (!(rel >= 0)) {
    throw new SparqError('E_ARG', `${what}: outlierThreshold must be ≥ 0 (Infinity disables outliers), found ${rel}`, { details: { expected: '≥ 0', found: rel } });
  }
  const f16 = opts.f16Stats ?? false;
  const { rows, cols } = w;
  const prep = opts.prepared ?? prepareHessian(hessian, cols, { percDamp: opts.percDamp ?? 0.01, actOrder: opts.actOrder ?? false, what });
  if (prep.cols !== cols || Boolean(prep.perm) !== Boolean(opts.actOrder)) {
    throw new SparqError('E_ARG', `${what}: the prepared Hessian does not match this call (columns or act-order)`, {
      details: { expected: { cols, actOrder: Boolean(opts.actOrder) }, found: { cols: prep.cols, actOrder: Boolean(prep.perm) } },
    });
  }
  const { U, dead, perm } = prep;
  const maxq = 2 ** bits - 1;
  const G = cols / gs;

  // Dead fix on a working copy (original order), then processing order.
  const W0 = Float64Array.from(w.data);
  for (let j = 0; j < cols; j++) if (dead[j]) for (let r = 0; r < rows; r++) W0[r * cols + j] = 0;
  const W = perm ? permuteColumns(W0, rows, cols, perm) : W0;
  // d_j = U_jj per processing position, and per original column (for groups fitted in original order).
  const dProc = new Float64Array(cols);
  for (let j = 0; j < cols; j++) dProc[j] = U[j * cols + j]!;
  let dOrig = dProc;
  if (perm) {
    dOrig = new Float64Array(cols);
    for (let j = 0; j < cols; j++) dOrig[perm[j]!] = dProc[j]!;
  }

  // Threshold: relative to the mean over columns of var(W[:, j]) / U_jj² (unbiased variance, as torch.var).
  let outlierScale = 0;
  if (rows > 1) {
    for (let j = 0; j < cols; j++) {
      let mean = 0;
      for (let r = 0; r < rows; r++) mean += W[r * cols + j]!;
      mean /= rows;
      let v = 0;
      for (let r = 0; r < rows; r++) v += (W[r * cols + j]! - mean) ** 2;
      outlierScale += v / (rows - 1) / (dProc[j]! * dProc[j]!);
    }
    outlierScale /= cols;
  }
  const threshold = rel * outlierScale;
  const detect = Number.isFinite(threshold);

  const scales = createBilevelStat(rows, G, statBits, statGroupRows);
  const zeros = createBilevelStat(rows, G, statBits, statGroupRows);
  const fitter = new GroupFitter(rows, gs, maxq, detect ? threshold : Infinity);
  const fitGroup = (src: Float64Array, col0: number, d: Float64Array, g: number) => {
    fitter.fit(src, cols, col0, d);
    quantizeStatColumn(fitter.scale, rows, g, scales, f16);
    quantizeStatColumn(fitter.zero, rows, g, zeros, f16);
  };
  if (perm) for (let g = 0; g < G; g++) fitGroup(W0, g * gs, dOrig, g);

  const codesP = new Uint8Array(rows * cols);
  const outlierP = new Uint8Array(rows * cols);
  const err = new Float64Array(rows * blockSize);
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const count = i2 - i1;
    let j = i1;
    while (j < i2) {
      // Without act-order, a group's grid is fitted on the current weights when its first column comes up.
      if (!perm && j % gs === 0) fitGroup(W, j, dProc, j / gs);
      const segEnd = perm ? i2 : Math.min(i2, (Math.floor(j / gs) + 1) * gs);
      for (let r = 0; r < rows; r++) {
        const wo = r * cols;
        const eo = r * count - i1;
        for (let c = j; c < segEnd; c++) {
          const g = Math.floor((perm ? perm[c]! : c) / gs);
          const scale = scales.values[r * G + g]!;
          const zero = zeros.values[r * G + g]!;
          const x = W[wo + c]!;
          let q = spqrCode(x, scale, zero, maxq);
          let xq = scale * (q - zero);
          if (f16) xq = Math.fround(xq);
          const d = dProc[c]!;
          let e = (x - xq) / d;
          if (detect && e * e > threshold) {
            // Outlier: keep the weight itself (as f16 when the format stores it); the base code quantizes 0.
            xq = f16 ? roundToF16(x) : x;
            q = spqrCode(0, scale, zero, maxq);
            outlierP[wo + c] = 1;
            e = (x - xq) / d;
          }
          codesP[wo + c] = q;
          W[wo + c] = xq;
          err[eo + c] = e;
          if (e !== 0) {
            const uo = c * cols;
            for (let t = c + 1; t < i2; t++) W[wo + t] -= e * U[uo + t]!;
          }
        }
      }
      j = segEnd;
    }
    if (i2 < cols) lazyUpdate(W, err, U, rows, cols, i1, i2);
  }

  const weight = perm ? unpermuteColumns(W, rows, cols, perm) : W;
  const codes = perm ? unpermuteColumns(codesP, rows, cols, perm) : codesP;
  const isOutlier = perm ? unpermuteColumns(outlierP, rows, cols, perm) : outlierP;
  const outliers = buildCsr(isOutlier, weight, rows, cols);
  const averageBits = spqrAverageBits({ rows, cols, bits, groupSize: gs, statBits, statGroupRows, outliers: outliers.values.length });
  const res: SpqrResult = { rows, cols, bits, groupSize: gs, weight, codes, scales, zeros, outliers, averageBits };
  if (perm) res.perm = Int32Array.from(perm);
  return res;
}

/** CSR of the outlier mask with the values `weight` holds there. */
function buildCsr(mask: Uint8Array, weight: Float64Array, rows: number, cols: number): SpqrOutliers {
  let nnz = 0;
  for (let i = 0; i < mask.length; i++) nnz += mask[i]!;
  const rowPtr = new Uint32Array(rows + 1);
  const colIdx = cols > 65536 ? new Uint32Array(nnz) : new Uint16Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (!mask[r * cols + c]) continue;
      colIdx[k] = c;
      values[k] = weight[r * cols + c]!;
      k++;
    }
    rowPtr[r + 1] = k;
  }
  return { rowPtr, cols: colIdx, values };
}

/**
 * Fits one column group's first-level grid for every row, excluding likely outliers: a weight whose removal
 * from the grid fit reduces the group's Hessian-weighted squared error `Σ ((ŵ − w)/U_jj)²` by more than the
 * threshold is replaced by the mean of the row's other weights before the final min/max fit
 * (`get_leave_one_out_error` in the reference).
 */
class GroupFitter {
  readonly scale: Float64Array;
  readonly zero: Float64Array;
  private readonly x: Float64Array;
  private readonly wt: Float64Array;
  private readonly mask: Uint8Array;
  private readonly sz = new Float64Array(2);

  constructor(
    private readonly rows: number,
    private readonly gs: number,
    private readonly maxq: number,
    private readonly threshold: number,
  ) {
    this.scale = new Float64Array(rows);
    this.zero = new Float64Array(rows);
    this.x = new Float64Array(gs);
    this.wt = new Float64Array(gs);
    this.mask = new Uint8Array(gs);
  }

  /** Fits columns `[col0, col0 + gs)` of `src` (`rows × cols`); `d[col]` is U_jj of each column. */
  fit(src: Float64Array, cols: number, col0: number, d: Float64Array): void {
    const { gs, x, wt, sz } = this;
    for (let k = 0; k < gs; k++) wt[k] = 1 / (d[col0 + k]! * d[col0 + k]!);
    for (let r = 0; r < this.rows; r++) {
      for (let k = 0; k < gs; k++) x[k] = src[r * cols + col0 + k]!;
      if (this.threshold !== Infinity && gs > 1) this.excludeOutliers();
      fitSpqrGrid(x, 0, gs, this.maxq, sz);
      this.scale[r] = sz[0]!;
      this.zero[r] = sz[1]!;
    }
  }

  /** Weighted squared error of quantizing `x` except index `skip` on the grid fitted without it. */
  private looError(skip: number): number {
    const { gs, x, wt, maxq } = this;
    let mn = Infinity;
    let mx = -Infinity;
    for (let k = 0; k < gs; k++) {
      if (k === skip) continue;
      if (x[k]! < mn) mn = x[k]!;
      if (x[k]! > mx) mx = x[k]!;
    }
    if (mn === mx) {
      mn = -1;
      mx = 1;
    }
    const scale = (mx - mn) / maxq;
    const zero = -mn / scale;
    let e = 0;
    for (let k = 0; k < gs; k++) {
      if (k === skip) continue;
      const dq = scale * (spqrCode(x[k]!, scale, zero, maxq) - zero) - x[k]!;
      e += dq * dq * wt[k]!;
    }
    return e;
  }

  private excludeOutliers(): void {
    const { gs, x, mask } = this;
    const base = this.looError(-1);
    let n = 0;
    let sum = 0;
    for (let k = 0; k < gs; k++) {
      mask[k] = base - this.looError(k) > this.threshold ? 1 : 0;
      if (!mask[k]) {
        n++;
        sum += x[k]!;
      }
    }
    if (n === gs) return;
    const mean = sum / Math.max(n, 1);
    for (let k = 0; k < gs; k++) if (mask[k]) x[k] = mean;
  }
}
