/**
 * SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can
 * Be Accurately Pruned in One-Shot"): column-by-column OBS pruning with the
 * upper Cholesky factor of the inverse Hessian, blocks of 128 columns with an
 * eager in-block update and a lazy update of the columns after the block —
 * the structure of the IST-DASLab reference `fasterprune`, optionally fused
 * with quantization (joint prune + quantize).
 */
import { SparqError } from '@sparq/tensor';
import type { ColumnQuantizer } from '@sparq/format';
import { subMulNT, type SubMulNT } from './gemm';
import { inverseUpperFactorTransposed, prepareHessian } from './inverse-factor';
import { checkPatternFor } from './nm-check';
import { unstructuredTarget, type SparsityPattern } from './pattern';
import { pruneLowest, pruneNmGroup, type TieRule } from './select';
import { checkFinite, checkWeight, type PruneResult, type WeightMatrix } from './weight';

/** Options of {@link sparseGpt}. */
export interface SparseGptOptions {
  /** Target pattern (N:M = `n` kept of every `m` consecutive input columns). */
  pattern: SparsityPattern;
  /** Columns per block (default 128). For N:M it must be a multiple of `m`. */
  blockSize?: number;
  /** Dampening as a fraction of the mean Hessian diagonal (default 0.01). */
  percDamp?: number;
  /**
   * Joint prune + quantize: each column, after masking, becomes
   * `quantizer.quantize(w·(1−mask), col)`, and the OBS update compensates the
   * combined error. Pruned weights stay exactly 0.
   */
  quantizer?: ColumnQuantizer;
  /**
   * Unstructured only: how each block's mask is chosen from its scores
   * `s = W² / U_jj²` (see {@link sparseGpt}). Default `'exact'`. Sparsity 0
   * prunes nothing under either rule (then only a quantizer changes weights).
   */
  tieRule?: TieRule;
  /** Layer name for error messages. */
  name?: string;
  /**
   * The dense `C −= A·Bᵀ` kernel used for the inverse-Hessian factor and the
   * dense lazy update (default: plain JS). Lets a caller inject a faster one
   * (WebAssembly SIMD, threads) without pruners depending on a backend.
   */
  gemm?: SubMulNT;
}

/**
 * The Hessian side of SparseGPT, independent of the weights: which input
 * columns are dead and `Uᵀ`, the transposed upper Cholesky factor of
 * `(H + damp·I)⁻¹` after the dead-column fix. Read-only once built, so one
 * factor can serve several layers (and several calls) that share inputs.
 */
export interface SparseGptFactor {
  /** Input columns (H is cols × cols). */
  readonly cols: number;
  /** The relative dampening it was built with. */
  readonly percDamp: number;
  /** 1 where `diag(H) == 0`: those weight columns are zeroed before pruning. */
  readonly dead: Uint8Array;
  /** `Uᵀ`, lower triangular, row-major `cols × cols`. */
  readonly ut: Float64Array;
}

/** Options of {@link prepareSparseGpt}. */
export interface PrepareSparseGptOptions {
  /** Dampening as a fraction of the mean diagonal (default 0.01). */
  percDamp?: number;
  /** `C −= A·Bᵀ` kernel (default plain JS). */
  gemm?: SubMulNT;
  /** Layer name for error messages. */
  name?: string;
}

/**
 * Validates `hessian` (`cols × cols`, finite), applies the dead-column fix and
 * dampening, and factors it for {@link sparseGpt}. Throws `E_SHAPE_MISMATCH`,
 * `E_ARG` or `E_NOT_POSITIVE_DEFINITE` (naming the failing column).
 */
export function prepareSparseGpt(hessian: Float64Array, cols: number, opts: PrepareSparseGptOptions = {}): SparseGptFactor {
  const what = opts.name ? `sparseGpt(${opts.name})` : 'sparseGpt';
  const percDamp = opts.percDamp ?? 0.01;
  if (!(Number.isFinite(percDamp) && percDamp >= 0)) {
    throw new SparqError('E_ARG', `${what}: percDamp must be ≥ 0, found ${percDamp}`, { details: { expected: '≥ 0', found: percDamp } });
  }
  if (!(Number.isInteger(cols) && cols > 0) || hessian.length !== cols * cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: Hessian must be ${cols}×${cols} (${cols * cols} values), found ${hessian.length}`, {
      details: { tensor: 'hessian', expected: cols * cols, found: hessian.length },
    });
  }
  checkFinite(hessian, cols, `${what}: Hessian`);
  const { h, dead } = prepareHessian(hessian, cols, percDamp);
  const ut = inverseUpperFactorTransposed(h, cols, { what: `${what}: damped Hessian`, inPlace: true, gemm: opts.gemm ?? subMulNT });
  return { cols, percDamp, dead, ut };
}

/**
 * SparseGPT on one linear layer.
 *
 * `hessian` is `cols × cols`, `H = 2XᵀX/n` (any positive multiple gives the
 * same result), or a {@link SparseGptFactor} from {@link prepareSparseGpt} —
 * prepare once and pass it to every layer that reads the same inputs (q/k/v,
 * gate/up): the `cols³/3` factorisation is the largest cost of a square layer. Steps, as in the reference: dead columns (`H_jj == 0`) get
 * `H_jj = 1` and their weights zeroed; `H += percDamp·mean(diag H)·I`; `U` =
 * upper Cholesky factor of `H⁻¹`; columns left to right in blocks; column `i`
 * gets `q = 0` if pruned else its current value (then quantized in joint mode),
 * `err = (w − q)/U_ii` and `W[:, i+1:] −= err ⊗ U[i, i+1:]`.
 *
 * Masks, from the *current* (already updated) weights:
 * - N:M: at every column `i ≡ 0 (mod m)`, per row the `m − n` lowest
 *   `W[:, i:i+m]² / U_jj²` (ties to the lower column).
 * - Unstructured, `'exact'` (default): at the start of every block `[i1, i2)`
 *   the lowest `W_block² / U_jj²` over all rows of the block, ties to the
 *   lower row-major index. Block `[i1, i2)` prunes
 *   `floor(s·rows·i2) − floor(s·rows·i1)` entries, so the per-block counts sum to
 *   exactly `floor(s·rows·cols)` for the layer (while each block still prunes
 *   ⌊s·rows·width⌋ or one more, i.e. the sparsity is spread evenly over blocks).
 * - Unstructured, `'reference'`: the reference code's `s ≤ sorted[floor(s·rows·width)]`
 *   per block, which prunes at least one more per block (for fixtures).
 *
 * Cost: about `rows·cols²/2` multiply-adds for the updates (halved again by
 * skipping the zero errors of kept weights when not quantizing) plus `cols³/3`
 * for `U`. Memory: two `rows×cols` and one `cols×cols` float64 arrays.
 */
export function sparseGpt(w: WeightMatrix, hessian: Float64Array | SparseGptFactor, opts: SparseGptOptions): PruneResult {
  const what = opts.name ? `sparseGpt(${opts.name})` : 'sparseGpt';
  checkWeight(w, what);
  const { rows, cols } = w;
  const { pattern } = opts;
  checkPatternFor(pattern, cols, what);
  const bs = opts.blockSize ?? 128;
  const percDamp = opts.percDamp ?? 0.01;
  const rule: TieRule = opts.tieRule ?? 'exact';
  const quantizer = opts.quantizer;
  if (!(Number.isInteger(bs) && bs > 0)) {
    throw new SparqError('E_ARG', `${what}: blockSize must be a positive integer, found ${bs}`, { details: { expected: '> 0', found: bs } });
  }
  if (pattern.kind === 'nm' && bs % pattern.m !== 0) {
    throw new SparqError('E_ARG', `${what}: blockSize ${bs} is not a multiple of M = ${pattern.m}; N:M groups must not cross blocks`, {
      details: { expected: `multiple of ${pattern.m}`, found: bs },
    });
  }
  const gs = quantizer ? quantizer.groupSize : 0;
  if (quantizer && !(Number.isInteger(gs) && gs > 0)) {
    throw new SparqError('E_ARG', `${what}: quantizer.groupSize must be a positive integer, found ${gs}`, { details: { expected: '> 0', found: gs } });
  }

  const gemm = opts.gemm ?? subMulNT;
  let factor: SparseGptFactor;
  if (ArrayBuffer.isView(hessian)) {
    factor = prepareSparseGpt(hessian as Float64Array, cols, { percDamp, gemm, name: opts.name });
  } else {
    factor = hessian as SparseGptFactor;
    if (factor.cols !== cols || factor.ut.length !== cols * cols || factor.dead.length !== cols) {
      throw new SparqError('E_SHAPE_MISMATCH', `${what}: the prepared Hessian factor is for ${factor.cols} input columns, the weight has ${cols}`, {
        details: { tensor: 'hessian', expected: cols, found: factor.cols },
      });
    }
    if (opts.percDamp !== undefined && opts.percDamp !== factor.percDamp) {
      throw new SparqError('E_ARG', `${what}: percDamp ${opts.percDamp} differs from the prepared factor's ${factor.percDamp}`, {
        details: { expected: factor.percDamp, found: opts.percDamp },
        hint: 'omit percDamp when passing a prepared factor, or prepare it with the same value',
      });
    }
  }
  const { dead } = factor;
  // Uᵀ (lower): row j holds column j of U, the upper Cholesky factor of H⁻¹. Read only.
  const Ut = factor.ut;
  const W = Float64Array.from(w.data);
  for (let j = 0; j < cols; j++) if (dead[j]) for (let r = 0; r < rows; r++) W[r * cols + j] = 0;

  const mask = new Uint8Array(rows * cols);
  const bw = Math.min(bs, cols); // widest block actually processed: sizes the scratch buffers
  const W1 = new Float64Array(rows * bw); // current block, rows × width
  const M1 = new Uint8Array(rows * bw); // block mask
  const Err = new Float64Array(rows * bw);
  const score = new Float64Array(Math.max(rows * bw, MAX_GROUP_SCORES));
  const scratch = new Float64Array(rows * bw);
  const d2 = new Float64Array(bw);
  const col = new Float64Array(rows);
  const nz = new Int32Array(bw); // per row: block columns with a nonzero error
  const Ublk = new Float64Array(bw * bw); // U[i1:i2, i1:i2], row-major
  const panel = new Float64Array(bw * (cols - bw)); // U[i1:i2, i2:], row-major (zero-skipping lazy update)
  const nmPrune = pattern.kind === 'nm' ? pattern.m - pattern.n : 0;
  const m = pattern.kind === 'nm' ? pattern.m : 0;

  for (let i1 = 0; i1 < cols; i1 += bs) {
    const i2 = Math.min(i1 + bs, cols);
    const cnt = i2 - i1;
    for (let r = 0; r < rows; r++) W1.set(W.subarray(r * cols + i1, r * cols + i2), r * cnt);
    M1.fill(0, 0, rows * cnt);
    for (let k = 0; k < cnt; k++) {
      const d = Ut[(i1 + k) * cols + i1 + k]!;
      d2[k] = d * d;
      for (let j = k; j < cnt; j++) Ublk[k * cnt + j] = Ut[(i1 + j) * cols + i1 + k]!;
    }
    if (pattern.kind === 'unstructured' && pattern.sparsity > 0) {
      const n = rows * cnt;
      for (let r = 0; r < rows; r++) {
        const b = r * cnt;
        for (let k = 0; k < cnt; k++) {
          const x = W1[b + k]!;
          score[b + k] = (x * x) / d2[k]!;
        }
      }
      const s = pattern.sparsity;
      const k =
        rule === 'exact' ? unstructuredTarget(s, rows * i2) - unstructuredTarget(s, rows * i1) : unstructuredTarget(s, n);
      pruneLowest(score.subarray(0, n), k, M1.subarray(0, n), rule, scratch);
    }

    if (quantizer) {
      // Joint mode: the quantizer sees whole columns, so go column by column.
      for (let i = 0; i < cnt; i++) {
        const c = i1 + i;
        if (m !== 0 && i % m === 0) for (let r = 0; r < rows; r++) chooseNm(W1, M1, r * cnt + i, d2, i, m, nmPrune, score);
        if (quantizer.beginGroup && c % gs === 0) {
          const width = Math.min(gs, cols - c);
          quantizer.beginGroup(groupBlock(W, W1, M1, Err, Ut, rows, cols, i1, i2, c, width), c, width);
        }
        for (let r = 0; r < rows; r++) {
          const b = r * cnt + i;
          col[r] = M1[b] !== 0 ? 0 : W1[b]!;
        }
        const q = quantizeColumn(quantizer, col, c, M1, i, cnt, rows, what);
        // Pruned entries become +0 exactly (quantizeColumn checked they came back as ±0).
        for (let r = 0; r < rows; r++) obsStep(W1, Err, Ublk, r * cnt, i, cnt, M1[r * cnt + i] !== 0 ? 0 : q[r]!);
      }
    } else {
      // Pure pruning: rows are independent (masks and updates of a row read only
      // that row), so finish one row's block at a time while it sits in L1. The
      // arithmetic per row is the same sequence as column order.
      for (let r = 0; r < rows; r++) {
        const b = r * cnt;
        for (let i = 0; i < cnt; i++) {
          if (m !== 0 && i % m === 0) chooseNm(W1, M1, b + i, d2, i, m, nmPrune, score);
          obsStep(W1, Err, Ublk, b, i, cnt, M1[b + i] !== 0 ? 0 : W1[b + i]!);
        }
      }
    }

    for (let r = 0; r < rows; r++) {
      W.set(W1.subarray(r * cnt, (r + 1) * cnt), r * cols + i1);
      mask.set(M1.subarray(r * cnt, (r + 1) * cnt), r * cols + i1);
    }
    if (i2 < cols) {
      let nonzero = 0;
      for (let t = 0; t < rows * cnt; t++) nonzero += Err[t] !== 0 ? 1 : 0;
      // Dense GEMM runs ~1.8× the multiply-add rate of the zero-skipping axpy
      // form (measured): use it once most errors are nonzero (joint quantization).
      if (nonzero > DENSE_LAZY_FRACTION * rows * cnt) gemm(W, i2, cols, Err, 0, cnt, Ut, i2 * cols + i1, cols, rows, cols - i2, cnt);
      else {
        const rest = cols - i2;
        for (let j = 0; j < rest; j++) {
          const src = (i2 + j) * cols + i1;
          for (let k = 0; k < cnt; k++) panel[k * rest + j] = Ut[src + k]!;
        }
        lazyUpdate(W, Err, panel, rows, cols, cnt, i2, nz);
      }
    }
  }
  return { weight: W, mask };
}

/**
 * Per row, the `m − n` lowest of `W1[b:b+m]² / d2[i:i+m]` in one N:M group
 * (`b` = flat index of the group's first weight in the block, `i` its block column).
 */
function chooseNm(W1: Float64Array, M1: Uint8Array, b: number, d2: Float64Array, i: number, m: number, prune: number, score: Float64Array): void {
  for (let j = 0; j < m; j++) {
    const x = W1[b + j]!;
    score[j] = (x * x) / d2[i + j]!;
  }
  pruneNmGroup(score, 0, 1, m, prune, M1, b, 1);
}

/**
 * One OBS step on one row of the block (`b` = row offset): column `i` becomes
 * `q`, `err = (w − q)/U_ii` is recorded, and the rest of the row's block gets
 * `−= err·U[i, i+1:]` (eager update).
 */
function obsStep(W1: Float64Array, Err: Float64Array, Ublk: Float64Array, b: number, i: number, cnt: number, q: number): void {
  const urow = i * cnt;
  const x = W1[b + i]!;
  const err = (x - q) / Ublk[urow + i]!;
  W1[b + i] = q;
  Err[b + i] = err;
  if (err === 0) return;
  for (let j = i + 1; j < cnt; j++) W1[b + j] -= err * Ublk[urow + j]!;
}

/** Scores of one N:M group (M ≤ 16) are staged in `score`. */
const MAX_GROUP_SCORES = 16;

/** Fraction of nonzero block errors above which the lazy update uses the dense kernel. */
const DENSE_LAZY_FRACTION = 0.6;
/** Columns of W updated together in the lazy update: the U panel (width × 128 doubles) stays in L2. */
const LAZY_TILE = 256;

/**
 * `W[:, i2:] −= Err · P` with `P = U[i1:i2, i2:]` (row-major `cnt × (cols−i2)`),
 * tiled over columns, skipping the zero errors (kept weights when not
 * quantizing — half the work at 50 % / 2:4).
 */
function lazyUpdate(W: Float64Array, Err: Float64Array, P: Float64Array, rows: number, cols: number, cnt: number, i2: number, nz: Int32Array): void {
  const rest = cols - i2;
  for (let jt = i2; jt < cols; jt += LAZY_TILE) {
    const je = Math.min(jt + LAZY_TILE, cols);
    for (let r = 0; r < rows; r++) {
      const eb = r * cnt;
      let nnz = 0;
      for (let k = 0; k < cnt; k++) if (Err[eb + k] !== 0) nz[nnz++] = k;
      if (nnz === 0) continue;
      const wb = r * cols;
      let t = 0;
      // Eight U rows per pass over the W row segment: 9 loads + 1 store per 8 multiply-adds.
      for (; t + 7 < nnz; t += 8) {
        const k0 = nz[t]!, k1 = nz[t + 1]!, k2 = nz[t + 2]!, k3 = nz[t + 3]!;
        const k4 = nz[t + 4]!, k5 = nz[t + 5]!, k6 = nz[t + 6]!, k7 = nz[t + 7]!;
        const e0 = Err[eb + k0]!, e1 = Err[eb + k1]!, e2 = Err[eb + k2]!, e3 = Err[eb + k3]!;
        const e4 = Err[eb + k4]!, e5 = Err[eb + k5]!, e6 = Err[eb + k6]!, e7 = Err[eb + k7]!;
        const u0 = k0 * rest - i2, u1 = k1 * rest - i2, u2 = k2 * rest - i2, u3 = k3 * rest - i2;
        const u4 = k4 * rest - i2, u5 = k5 * rest - i2, u6 = k6 * rest - i2, u7 = k7 * rest - i2;
        for (let j = jt; j < je; j++) {
          W[wb + j] -=
            e0 * P[u0 + j]! + e1 * P[u1 + j]! + (e2 * P[u2 + j]! + e3 * P[u3 + j]!) +
            (e4 * P[u4 + j]! + e5 * P[u5 + j]! + (e6 * P[u6 + j]! + e7 * P[u7 + j]!));
        }
      }
      for (; t < nnz; t++) {
        const k = nz[t]!;
        const e = Err[eb + k]!;
        const u = k * rest - i2;
        for (let j = jt; j < je; j++) W[wb + j] -= e * P[u + j]!;
      }
    }
  }
}

/**
 * The current weights of the quantization group `[c, c + width)` for
 * `beginGroup`, rows × width: block columns from W1 (eager-updated), later
 * columns from W plus the lazy update still pending from this block's columns
 * `[i1, c)`. Entries whose mask is already decided and pruned are 0; masks not
 * yet decided (later N:M groups, later blocks) leave the current value.
 */
function groupBlock(
  W: Float64Array,
  W1: Float64Array,
  M1: Uint8Array,
  Err: Float64Array,
  Ut: Float64Array,
  rows: number,
  cols: number,
  i1: number,
  i2: number,
  c: number,
  width: number,
): Float64Array {
  const cnt = i2 - i1;
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < width; t++) {
      const j = c + t;
      let v: number;
      if (j < i2) {
        v = M1[r * cnt + (j - i1)] !== 0 ? 0 : W1[r * cnt + (j - i1)]!;
      } else {
        v = W[r * cols + j]!;
        for (let k = i1; k < c; k++) v -= Err[r * cnt + (k - i1)]! * Ut[j * cols + k]!;
      }
      out[r * width + t] = v;
    }
  }
  return out;
}

/** Calls the quantizer on one masked column and checks its contract (length, pruned → exactly 0). */
function quantizeColumn(
  quantizer: ColumnQuantizer,
  column: Float64Array,
  c: number,
  M1: Uint8Array,
  i: number,
  cnt: number,
  rows: number,
  what: string,
): Float64Array {
  const q = quantizer.quantize(column, c);
  if (q.length !== rows) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: quantizer returned ${q.length} values for column ${c}, expected ${rows}`, {
      details: { expected: rows, found: q.length },
    });
  }
  for (let r = 0; r < rows; r++) {
    if (M1[r * cnt + i] !== 0 && q[r] !== 0) {
      throw new SparqError('E_ARG', `${what}: the quantizer mapped a pruned weight (0) to ${q[r]} at row ${r}, column ${c}`, {
        details: { expected: 0, found: q[r] },
        hint: 'joint prune + quantize needs a quantizer whose zero-point is an integer (0 must be exactly representable)',
      });
    }
  }
  return q;
}
