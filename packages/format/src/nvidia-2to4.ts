/**
 * NVIDIA 2:4 sparse-tensor-core metadata from an {@link NMMatrix} (2:4).
 *
 * Two layouts (docs/format.md §9):
 * 1. **Logical** (`mma.sp` chunk encoding): one u16 per row and 16 columns;
 *    nibble `j` describes 4-column chunk `j` as `idx0 | idx1 << 2`
 *    (`idx0 < idx1`, the positions of its two kept values). This is exactly the
 *    §3 2-bit index stream of a row read as little-endian u16 words.
 * 2. **CUTLASS reordered** — the variant implemented for kernels: the logical
 *    `[rows, cols/16]` int16 matrix scattered into CUTLASS's
 *    `ColumnMajorInterleaved<2>` layout with the row interleave and 2×2 swizzle
 *    of `reorder_meta()` (cutlass `tools/util/include/cutlass/util/host_reorder.h`),
 *    i.e. what PyTorch's `to_sparse_semi_structured` (CUTLASS backend) stores
 *    for f16/bf16 and CUTLASS's sm80 sparse tensor-op GEMM loads for `mma.sp`.
 *    cuSPARSELt's compressed buffer is opaque (built by `cusparseLtSpMMACompress`)
 *    and is not produced here: feed it the dense pruned matrix instead.
 * The kept values stay `[rows, cols/2]` row-major, as in §3.
 */
import { SparqError, type NMMatrix } from '@sparq/tensor';
import { expectLength } from './checks';
import { validateNMMatrix } from './nm';

/** Rows per CUTLASS metadata tile (the int16 reordering works on blocks of 32 rows). */
const ROW_BLOCK = 32;

function check2to4(x: NMMatrix, what: string): void {
  validateNMMatrix(x, what);
  if (x.n !== 2 || x.m !== 4) {
    throw new SparqError('E_ARG', `${what}: NVIDIA sparse tensor cores need 2:4, found ${x.n}:${x.m}`, {
      details: { tensor: what, expected: '2:4', found: `${x.n}:${x.m}` },
    });
  }
}

/**
 * The logical `mma.sp` metadata of a 2:4 matrix: `[rows, cols/16]` u16, nibble
 * `j` of word `w` = chunk `4w + j` as `idx0 | idx1 << 2`. Needs `cols % 16 = 0`.
 */
export function nvidia2to4LogicalMeta(x: NMMatrix, what = 'weight'): Uint16Array {
  check2to4(x, what);
  if (x.cols % 16 !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: 2:4 metadata words cover 16 columns; ${x.cols} columns is not a multiple of 16`, {
      details: { tensor: what, expected: 'cols % 16 = 0', found: x.cols },
    });
  }
  // §3 packs 2-bit positions LSB-first, pairs in increasing order: byte t holds
  // chunks 2t (low nibble) and 2t+1 — already the mma.sp nibble encoding.
  const words = x.cols / 16;
  const out = new Uint16Array(x.rows * words);
  const b = x.indices;
  for (let i = 0; i < out.length; i++) out[i] = b[2 * i]! | (b[2 * i + 1]! << 8);
  return out;
}

/** Destination offset of logical word `(r, c)` in the CUTLASS reordered int16 metadata of `rows` rows. */
function reorderedOffset(r: number, c: number, rows: number): number {
  // Reorder rows inside each block of 32: row r goes to (r % 8)·4 + (r % 32)/8.
  let dr = Math.floor(r / ROW_BLOCK) * ROW_BLOCK + (r % 8) * 4 + Math.floor((r % ROW_BLOCK) / 8);
  let dc = c;
  // Swizzle 2×2 blocks: swap the top-right and bottom-left words.
  if (dr % 2 === 0 && dc % 2 === 1) {
    dr += 1;
    dc -= 1;
  } else if (dr % 2 === 1 && dc % 2 === 0) {
    dr -= 1;
    dc += 1;
  }
  // ColumnMajorInterleaved<2>: pairs of columns, column-major over rows.
  return Math.floor(dc / 2) * rows * 2 + dr * 2 + (dc % 2);
}

function checkCutlassShape(rows: number, cols: number, what: string): void {
  if (rows % ROW_BLOCK !== 0 || cols % 32 !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: CUTLASS 2:4 metadata needs rows % 32 = 0 and cols % 32 = 0, found [${rows}, ${cols}]`, {
      details: { tensor: what, expected: 'rows % 32 = 0, cols % 32 = 0', found: [rows, cols] },
      hint: 'pad the layer or keep it on the §3 layout for non-tensor-core kernels',
    });
  }
}

/** Reorders logical `[rows, cols/16]` metadata into the CUTLASS int16 layout (see file comment). */
export function cutlassReorderMeta(logical: Uint16Array, rows: number, cols: number, what = 'weight'): Uint16Array {
  checkCutlassShape(rows, cols, what);
  const words = cols / 16;
  expectLength(`${what} metadata`, logical.length, rows * words);
  const out = new Uint16Array(logical.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < words; c++) out[reorderedOffset(r, c, rows)] = logical[r * words + c]!;
  }
  return out;
}

/** Inverse of {@link cutlassReorderMeta}. */
export function cutlassUnreorderMeta(reordered: Uint16Array, rows: number, cols: number, what = 'weight'): Uint16Array {
  checkCutlassShape(rows, cols, what);
  const words = cols / 16;
  expectLength(`${what} metadata`, reordered.length, rows * words);
  const out = new Uint16Array(reordered.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < words; c++) out[r * words + c] = reordered[reorderedOffset(r, c, rows)]!;
  }
  return out;
}

/** A 2:4 weight in the CUTLASS / PyTorch semi-structured layout. */
export interface Nvidia2to4 {
  readonly rows: number;
  readonly cols: number;
  /** `[rows, cols/2]` kept values, row-major (the §3 values). */
  readonly values: Float32Array;
  /** `[rows, cols/16]` int16 metadata in CUTLASS reordered layout (bit patterns). */
  readonly meta: Uint16Array;
}

/** Converts a 2:4 {@link NMMatrix} to the CUTLASS layout; rows and cols must be multiples of 32. */
export function toNvidia2to4(x: NMMatrix, what = 'weight'): Nvidia2to4 {
  const logical = nvidia2to4LogicalMeta(x, what);
  return { rows: x.rows, cols: x.cols, values: x.values, meta: cutlassReorderMeta(logical, x.rows, x.cols, what) };
}

/** Converts CUTLASS-layout 2:4 data back to an {@link NMMatrix} (indices re-validated on decode). */
export function fromNvidia2to4(t: Nvidia2to4, what = 'weight'): NMMatrix {
  const logical = cutlassUnreorderMeta(t.meta, t.rows, t.cols, what);
  const indices = new Uint8Array(logical.length * 2);
  for (let i = 0; i < logical.length; i++) {
    indices[2 * i] = logical[i]! & 0xff;
    indices[2 * i + 1] = logical[i]! >>> 8;
  }
  const x: NMMatrix = { kind: 'nm', rows: t.rows, cols: t.cols, n: 2, m: 4, values: t.values, indices };
  validateNMMatrix(x, what);
  return x;
}
