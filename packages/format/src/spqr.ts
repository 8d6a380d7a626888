/**
 * SpQR pieces (docs/format.md §5, §6): f16 outliers in CSR form with
 * overwrite semantics, bilevel (second-level quantized) statistics, and the
 * {@link SpqrMatrix} that combines them with a small-group quantized base.
 */
import {
  SparqError,
  f16ArrayToF32,
  f16ToF32,
  f32ToF16,
  type BilevelStat,
  type OutlierCsr,
  type PackedBits,
  type SpqrMatrix,
} from '@sparq/tensor';
import { expectDims, expectGroupSize, expectLength, expectQuantBits } from './checks';
import { packBits, packedRowBytes, unpackBits } from './pack-bits';

// ---------------------------------------------------------------- outliers (§5)

/** Whether outlier columns need u32 (K > 65536, §5) rather than u16. */
export function outlierColsWide(cols: number): boolean {
  return cols > 65536;
}

/**
 * Builds the outlier CSR of a `[rows, cols]` weight from a dense 0/1 `mask`
 * and dense `values` (read only where the mask is set; narrowed to f16).
 */
export function encodeOutliers(rows: number, cols: number, mask: ArrayLike<number>, values: ArrayLike<number>, what = 'weight'): OutlierCsr {
  expectDims(what, rows, cols);
  expectLength(`${what} outlier mask`, mask.length, rows * cols);
  expectLength(`${what} outlier values`, values.length, rows * cols);
  const rowPtr = new Uint32Array(rows + 1);
  let nnz = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (mask[r * cols + c] !== 0) nnz++;
    rowPtr[r + 1] = nnz;
  }
  const outCols = outlierColsWide(cols) ? new Uint32Array(nnz) : new Uint16Array(nnz);
  const outValues = new Uint16Array(nnz);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (mask[r * cols + c] !== 0) {
        outCols[o] = c;
        outValues[o++] = f32ToF16(values[r * cols + c]!);
      }
    }
  }
  return { rowPtr, cols: outCols, values: outValues };
}

/**
 * Checks an outlier CSR against a `[rows, cols]` weight: monotone `rowPtr`
 * starting at 0, matching array lengths, columns in range and strictly
 * increasing within a row, u32 columns only when K > 65536. Throws
 * `E_SHAPE_MISMATCH` / `E_ARG` naming the first bad row.
 */
export function validateOutliers(o: OutlierCsr, rows: number, cols: number, what = 'weight'): void {
  expectLength(`${what}.outlier_row_ptr`, o.rowPtr.length, rows + 1);
  const nnz = o.rowPtr[rows]!;
  if (o.rowPtr[0] !== 0) {
    throw new SparqError('E_ARG', `${what}.outlier_row_ptr: must start at 0, found ${o.rowPtr[0]}`, {
      details: { tensor: `${what}.outlier_row_ptr`, expected: 0, found: o.rowPtr[0] },
    });
  }
  expectLength(`${what}.outlier_cols`, o.cols.length, nnz);
  expectLength(`${what}.outlier_values`, o.values.length, nnz);
  const wantWide = outlierColsWide(cols);
  if ((o.cols instanceof Uint32Array) !== wantWide) {
    throw new SparqError('E_ARG', `${what}.outlier_cols: ${cols} columns need ${wantWide ? 'u32' : 'u16'} column indices`, {
      details: { tensor: `${what}.outlier_cols`, expected: wantWide ? 'u32' : 'u16', found: o.cols instanceof Uint32Array ? 'u32' : 'u16' },
    });
  }
  for (let r = 0; r < rows; r++) {
    const a = o.rowPtr[r]!;
    const b = o.rowPtr[r + 1]!;
    if (b < a || b > nnz) {
      throw new SparqError('E_ARG', `${what}.outlier_row_ptr: row ${r} spans [${a}, ${b}), not within [0, ${nnz}] and non-decreasing`, {
        details: { tensor: `${what}.outlier_row_ptr`, found: [a, b] },
      });
    }
    for (let i = a; i < b; i++) {
      const c = o.cols[i]!;
      if (c >= cols || (i > a && c <= o.cols[i - 1]!)) {
        throw new SparqError('E_ARG', `${what}.outlier_cols: row ${r}: column ${c} is out of range [0, ${cols}) or not strictly increasing`, {
          details: { tensor: `${what}.outlier_cols`, expected: `strictly increasing in [0, ${cols})`, found: c },
        });
      }
    }
  }
}

/** Overwrites `out` (`[rows, cols]` row-major) with the outliers, widened from f16 (§5 overwrite semantics). */
export function applyOutliers(out: Float32Array, o: OutlierCsr, rows: number, cols: number): Float32Array {
  const v = f16ArrayToF32(o.values);
  for (let r = 0; r < rows; r++) {
    for (let i = o.rowPtr[r]!; i < o.rowPtr[r + 1]!; i++) out[r * cols + o.cols[i]!] = v[i]!;
  }
  return out;
}

// ------------------------------------------------------ bilevel statistics (§6)

/** Round half to even, as torch.round does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantizes a first-level statistic `[rows, groups]` (scales or zero-points)
 * to the §6 bilevel layout: per column group, consecutive blocks of
 * `groupRows` rows get an asymmetric min/max quantizer with `bits` bits
 * (SpQR: `round_zero=False`, so the zero-point is `−min/scale`, not rounded).
 * `statScale` and `statZero` are rounded to f16 *before* the codes are chosen,
 * so the codes fit the grid the decoder uses. A constant block stores
 * `scale = f16(value)`, `zero = −1`, codes 0 (decodes to `f16(value)`).
 */
export function quantizeBilevelStat(
  values: ArrayLike<number>,
  rows: number,
  groups: number,
  bits: PackedBits,
  groupRows: number,
  what = 'statistic',
): BilevelStat {
  expectQuantBits(what, bits);
  expectLength(what, values.length, rows * groups);
  if (!Number.isInteger(groupRows) || groupRows < 1) {
    throw new SparqError('E_ARG', `${what}: second-level group size must be a positive integer, found ${groupRows}`, {
      details: { tensor: what, found: groupRows },
    });
  }
  const blocks = Math.ceil(rows / groupRows);
  const maxq = (1 << bits) - 1;
  const scale = new Uint16Array(blocks * groups);
  const zero = new Uint16Array(blocks * groups);
  const codes = new Uint8Array(rows * groups);
  for (let b = 0; b < blocks; b++) {
    const r0 = b * groupRows;
    const r1 = Math.min(rows, r0 + groupRows);
    for (let t = 0; t < groups; t++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let r = r0; r < r1; r++) {
        const x = values[r * groups + t]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      let s16: number;
      let z16: number;
      if (!(hi > lo)) {
        s16 = f32ToF16(lo);
        z16 = f32ToF16(-1);
      } else {
        s16 = f32ToF16((hi - lo) / maxq);
        z16 = f32ToF16(-lo / f16ToF32(s16));
      }
      scale[b * groups + t] = s16;
      zero[b * groups + t] = z16;
      const s = f16ToF32(s16);
      const z = f16ToF32(z16);
      for (let r = r0; r < r1; r++) {
        const q = hi > lo && s !== 0 ? roundHalfEven(values[r * groups + t]! / s + z) : 0;
        codes[r * groups + t] = Math.min(maxq, Math.max(0, Number.isFinite(q) ? q : 0));
      }
    }
  }
  return { bits, groupRows, codes: packBits(codes, rows, groups, bits, `${what}.codes`), scale, zero };
}

/** Checks a {@link BilevelStat}'s arrays against a `[rows, groups]` statistic. */
export function validateBilevelStat(s: BilevelStat, rows: number, groups: number, what = 'statistic'): void {
  expectQuantBits(what, s.bits);
  if (!Number.isInteger(s.groupRows) || s.groupRows < 1) {
    throw new SparqError('E_ARG', `${what}: second-level group size must be a positive integer, found ${s.groupRows}`, {
      details: { tensor: what, found: s.groupRows },
    });
  }
  const blocks = Math.ceil(rows / s.groupRows);
  expectLength(`${what}.codes`, s.codes.length, rows * packedRowBytes(groups, s.bits), 'bytes');
  expectLength(`${what}.scale`, s.scale.length, blocks * groups);
  expectLength(`${what}.zero`, s.zero.length, blocks * groups);
}

/**
 * Decodes a bilevel statistic to its first-level f32 values `[rows, groups]`:
 * `fround(f32(statScale) · (code − f32(statZero)))` (§6).
 */
export function decodeBilevelStat(s: BilevelStat, rows: number, groups: number, what = 'statistic'): Float32Array {
  validateBilevelStat(s, rows, groups, what);
  const codes = unpackBits(s.codes, rows, groups, s.bits, `${what}.codes`);
  const sc = f16ArrayToF32(s.scale);
  const ze = f16ArrayToF32(s.zero);
  const out = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    const b = Math.floor(r / s.groupRows) * groups;
    for (let t = 0; t < groups; t++) out[r * groups + t] = sc[b + t]! * (codes[r * groups + t]! - ze[b + t]!);
  }
  return out;
}

// ------------------------------------------------------------- SpQR matrix

/** Plain SpQR quantizer output, as {@link encodeSpqr} takes it. */
export interface SpqrParts {
  readonly rows: number;
  readonly cols: number;
  readonly bits: PackedBits;
  /** First-level group size (e.g. 16), a divisor of `cols`. */
  readonly groupSize: number;
  /** `[rows, cols]` base codes, unpacked (codes under outliers are stored but ignored). */
  readonly codes: ArrayLike<number>;
  /** Bilevel first-level scales, e.g. from {@link quantizeBilevelStat}. */
  readonly scales: BilevelStat;
  /** Bilevel first-level zero-points. */
  readonly zeros: BilevelStat;
  /** Outliers, e.g. from {@link encodeOutliers}. */
  readonly outliers: OutlierCsr;
}

/** Packs SpQR parts into a validated {@link SpqrMatrix}. */
export function encodeSpqr(p: SpqrParts, what = 'weight'): SpqrMatrix {
  const { rows, cols, bits, groupSize } = p;
  expectDims(what, rows, cols);
  expectQuantBits(what, bits);
  expectGroupSize(what, cols, groupSize);
  const x: SpqrMatrix = {
    kind: 'spqr', rows, cols, bits, groupSize,
    codes: packBits(p.codes, rows, cols, bits, `${what}.codes`),
    scales: p.scales, zeros: p.zeros, outliers: p.outliers,
  };
  validateSpqr(x, what);
  return x;
}

/** Checks every array of a {@link SpqrMatrix} against its shape. */
export function validateSpqr(x: SpqrMatrix, what = 'weight'): void {
  expectDims(what, x.rows, x.cols);
  expectQuantBits(what, x.bits);
  expectGroupSize(what, x.cols, x.groupSize);
  expectLength(`${what}.codes`, x.codes.length, x.rows * packedRowBytes(x.cols, x.bits), 'bytes');
  const groups = x.cols / x.groupSize;
  validateBilevelStat(x.scales, x.rows, groups, `${what}.scales`);
  validateBilevelStat(x.zeros, x.rows, groups, `${what}.zeros`);
  validateOutliers(x.outliers, x.rows, x.cols, what);
}

/**
 * Decodes a {@link SpqrMatrix} to dense f32: first-level statistics from §6,
 * base `fround(s · (q − z))` (binary64 arithmetic, one final rounding to f32;
 * `z` may be non-integer), then outliers overwrite their positions (§5).
 */
export function decodeSpqr(x: SpqrMatrix, out = new Float32Array(x.rows * x.cols), what = 'weight'): Float32Array {
  validateSpqr(x, what);
  expectLength(`${what} output`, out.length, x.rows * x.cols);
  const groups = x.cols / x.groupSize;
  const s = decodeBilevelStat(x.scales, x.rows, groups, `${what}.scales`);
  const z = decodeBilevelStat(x.zeros, x.rows, groups, `${what}.zeros`);
  const q = unpackBits(x.codes, x.rows, x.cols, x.bits, `${what}.codes`);
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) {
      const g = r * groups + Math.floor(c / x.groupSize);
      out[r * x.cols + c] = s[g]! * (q[r * x.cols + c]! - z[g]!);
    }
  }
  return applyOutliers(out, x.outliers, x.rows, x.cols);
}
