/**
 * How each weight layout is laid out on the device: the arrays a kernel binds,
 * each with its per-row byte offsets (for splitting, `split.ts`) and a slicer
 * that produces the bytes of rows `[r0, r1)`. Packed arrays are the format's
 * own bytes (docs/format.md §1–§6) — uploaded as they are, no repacking —
 * except SpQR's bilevel statistics, decoded once to f32 here (§6), and
 * outlier columns widened to u32.
 */
import { f16ToF32, f32ArrayToF16, type PackedMatrix, type SpqrMatrix, type BilevelStat, type Tensor } from '@sparq/tensor';
import { bytesOf } from './runtime';
import { fixedRows, type RowOffset } from './split';

/** One device array of a weight. */
export interface RowArray {
  offset: RowOffset;
  slice(r0: number, r1: number): ArrayBufferView;
}

const rowBytes = (count: number, bits: number): number => Math.ceil((count * bits) / 8);
const idxBits = (m: number): number => Math.max(1, Math.ceil(Math.log2(m)));

/** An array with a fixed number of elements per row. */
function fixed<T extends Uint8Array | Uint16Array | Float32Array>(a: T, perRow: number): RowArray {
  return { offset: fixedRows(perRow * a.BYTES_PER_ELEMENT), slice: (r0, r1) => a.subarray(r0 * perRow, r1 * perRow) };
}

/** Reads code `i` of a packed row (§1, LSB-first). */
function code(bytes: Uint8Array, rowByte: number, i: number, bits: number): number {
  let q = 0;
  for (let t = 0; t < bits; t++) {
    const k = i * bits + t;
    q |= ((bytes[rowByte + (k >> 3)]! >> (k & 7)) & 1) << t;
  }
  return q;
}

/** First-level values of a bilevel statistic (§6): `fround(f32(scale) · (code − f32(zero)))`. */
export function decodeStat(stat: BilevelStat, rows: number, groups: number): Float32Array {
  const out = new Float32Array(rows * groups);
  const rb = rowBytes(groups, stat.bits);
  for (let r = 0; r < rows; r++) {
    const o = Math.floor(r / stat.groupRows) * groups;
    for (let t = 0; t < groups; t++) {
      const q = code(stat.codes, r * rb, t, stat.bits);
      out[r * groups + t] = Math.fround(f16ToF32(stat.scale[o + t]!) * (q - f16ToF32(stat.zero[o + t]!)));
    }
  }
  return out;
}

function spqrArrays(w: SpqrMatrix): RowArray[] {
  const G = w.cols / w.groupSize;
  const { rowPtr, cols, values } = w.outliers;
  return [
    fixed(w.codes, rowBytes(w.cols, w.bits)),
    fixed(decodeStat(w.scales, w.rows, G), G),
    fixed(decodeStat(w.zeros, w.rows, G), G),
    // rowPtr of a chunk is rebased to its first outlier; it has rows + 1 entries.
    { offset: (r) => (r + 1) * 4, slice: (r0, r1) => Uint32Array.from(rowPtr.subarray(r0, r1 + 1), (p) => p - rowPtr[r0]!) },
    { offset: (r) => rowPtr[r]! * 4, slice: (r0, r1) => Uint32Array.from(cols.subarray(rowPtr[r0]!, rowPtr[r1]!)) },
    { offset: (r) => rowPtr[r]! * 2, slice: (r0, r1) => values.subarray(rowPtr[r0]!, rowPtr[r1]!) },
  ];
}

/** The device arrays of a packed weight, in the binding order of `rowKernelBuffers`. */
export function packedArrays(w: PackedMatrix): RowArray[] {
  switch (w.kind) {
    case 'quant': {
      const G = w.cols / w.groupSize;
      const a = [fixed(w.codes, rowBytes(w.cols, w.bits)), fixed(w.scales, G)];
      return w.sym ? a : [...a, fixed(w.zeros!, rowBytes(G, w.bits))];
    }
    case 'nm': {
      const L = (w.cols / w.m) * w.n;
      return [fixed(w.values, L), fixed(w.indices, rowBytes(L, idxBits(w.m)))];
    }
    case 'nm-quant': {
      const L = (w.cols / w.m) * w.n;
      const G = w.cols / w.groupSize;
      const a = [fixed(w.codes, rowBytes(L, w.bits)), fixed(w.scales, G)];
      return [...a, ...(w.sym ? [] : [fixed(w.zeros!, rowBytes(G, w.bits))]), fixed(w.indices, rowBytes(L, idxBits(w.m)))];
    }
    case 'spqr':
      return spqrArrays(w);
  }
}

/** How a dense `b` is stored: `[n, k]` f32 or f16 (transposeB, the `Linear` layout) or `[k, n]` f32. */
export type DenseLayout = 'T-f32' | 'T-f16' | 'N-f32';

/**
 * Device arrays of a dense weight, "rows" being output features: `[n, k]`
 * rows as they are (f16: rounded to nearest even once, here), or for `[k, n]`
 * blocks of columns copied out as `[k, nc]` matrices.
 */
export function denseArrays(b: Tensor<'f32'>, layout: DenseLayout): RowArray {
  const [d0, d1] = b.shape as [number, number];
  if (layout === 'T-f32') return fixed(b.data, d1);
  if (layout === 'T-f16') {
    const h = f32ArrayToF16(b.data);
    return fixed(h, d1);
  }
  const k = d0;
  const n = d1;
  return {
    offset: fixedRows(k * 4),
    slice: (c0, c1) => {
      const nc = c1 - c0;
      const out = new Float32Array(k * nc);
      for (let p = 0; p < k; p++) out.set(b.data.subarray(p * n + c0, p * n + c1), p * nc);
      return out;
    },
  };
}

