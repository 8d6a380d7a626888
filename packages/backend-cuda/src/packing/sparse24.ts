/**
 * Host-side packing of 2:4 weights for the sparse tensor-core kernels
 * (native/kernels/sparse24_mma.cu, sparse24_int4_mma.cu), and an exact
 * emulation of how those kernels and `mma.sp` read them.
 *
 * - Rows are padded to a multiple of 32 and columns to a multiple of 32 (the
 *   CUTLASS metadata tile and one `m16n8k32` k-block); padded 4-column chunks
 *   keep positions (0, 1) with value 0.
 * - Metadata: `@sparq/format`'s `toNvidia2to4` layout (CUTLASS reordered
 *   int16, docs/format.md §9), read by the kernels as little-endian u32 words.
 * - Kept values (f16) or their INT4 codes: the fragment layouts of
 *   `fragments.ts` applied to the compressed `[nPad, kPad/2]` matrix.
 */
import { cutlassReorderMeta, nvidia2to4LogicalMeta } from '@sparq/format';
import { f32ArrayToF16, nmIndexBits, packedRowBytes, SparqError, unpackBits, type NMMatrix, type NMQuantMatrix } from '@sparq/tensor';
import { fragmentElement, packF16Fragments, packInt4Fragments, roundUp } from './fragments';

/** Padded shape of a 2:4 weight for the sparse kernels. */
export interface Sparse24Shape {
  readonly rows: number;
  readonly cols: number;
  /** rows rounded up to 32. */
  readonly nPad: number;
  /** cols rounded up to 32. */
  readonly kPad: number;
}

/** Kernel inputs of a 2:4 weight with f16 values. */
export interface Sparse24F16 extends Sparse24Shape {
  /** Compressed values in the f16 fragment layout, `nPad·kPad/2` halves. */
  readonly values: Uint16Array;
  /** CUTLASS reordered metadata, `nPad·kPad/16` u16 (read as u32 words). */
  readonly meta: Uint16Array;
}

/** Kernel inputs of a 2:4 + INT4 weight. */
export interface Sparse24Int4 extends Sparse24Shape {
  /** Codes of the kept values in the INT4 fragment layout, `nPad·kPad/16` u32. */
  readonly codes: Uint32Array;
  readonly meta: Uint16Array;
}

function check24(w: { n: number; m: number }, what: string): void {
  if (w.n !== 2 || w.m !== 4) {
    throw new SparqError('E_KERNEL_UNSUPPORTED', `${what}: sparse tensor cores need 2:4, found ${w.n}:${w.m}`, {
      details: { expected: '2:4', found: `${w.n}:${w.m}` },
    });
  }
}

/** Writes 2-bit values LSB-first (§1). */
function pack2bit(vals: Uint8Array): Uint8Array {
  const out = new Uint8Array(packedRowBytes(vals.length, 2));
  for (let i = 0; i < vals.length; i++) out[i >> 2]! |= (vals[i]! & 3) << (2 * (i & 3));
  return out;
}

/** The §3 positions of a 2:4 weight padded to `[nPad, kPad]` (padded chunks keep positions 0 and 1). */
function paddedIndices(indices: Uint8Array, rows: number, cols: number, nPad: number, kPad: number): Uint8Array {
  const L = cols / 2;
  const LP = kPad / 2;
  const ib = nmIndexBits(4);
  const pos = new Uint8Array(nPad * LP);
  for (let s = 0; s < pos.length; s++) pos[s] = s & 1; // (0, 1) everywhere…
  for (let r = 0; r < rows; r++) pos.set(unpackBits(indices, r * packedRowBytes(L, ib), L, ib), r * LP); // …but the real rows
  const out = new Uint8Array(nPad * packedRowBytes(LP, 2));
  for (let r = 0; r < nPad; r++) out.set(pack2bit(pos.subarray(r * LP, (r + 1) * LP)), r * packedRowBytes(LP, 2));
  return out;
}

function shapeOf(rows: number, cols: number): Sparse24Shape {
  return { rows, cols, nPad: roundUp(Math.max(rows, 1), 32), kPad: roundUp(Math.max(cols, 1), 32) };
}

/** CUTLASS metadata of the padded weight, through `@sparq/format`'s nvidia-2to4 functions. */
function metaOf(indices: Uint8Array, sh: Sparse24Shape): Uint16Array {
  const padded: NMMatrix = {
    kind: 'nm',
    rows: sh.nPad,
    cols: sh.kPad,
    n: 2,
    m: 4,
    values: new Float32Array((sh.nPad * sh.kPad) / 2),
    indices: paddedIndices(indices, sh.rows, sh.cols, sh.nPad, sh.kPad),
  };
  return cutlassReorderMeta(nvidia2to4LogicalMeta(padded), sh.nPad, sh.kPad);
}

/** Pads a row-major `[rows, w]` array to `[nPad, wPad]` with zeros. */
function padRows<T extends Uint8Array | Uint16Array>(src: T, rows: number, w: number, nPad: number, wPad: number, make: (n: number) => T): T {
  const out = make(nPad * wPad);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * w, (r + 1) * w), r * wPad);
  return out;
}

/** Packs a 2:4 {@link NMMatrix} (values rounded to f16) for sparse24_mma.cu. */
export function packSparse24F16(w: NMMatrix): Sparse24F16 {
  check24(w, 'matmulNM (tensor cores)');
  const sh = shapeOf(w.rows, w.cols);
  const vals = padRows(f32ArrayToF16(w.values), w.rows, w.cols / 2, sh.nPad, sh.kPad / 2, (n) => new Uint16Array(n));
  return { ...sh, values: packF16Fragments(vals, sh.nPad, sh.kPad / 2, sh.nPad, sh.kPad / 2), meta: metaOf(w.indices, sh) };
}

/** Packs a 2:4 + 4-bit {@link NMQuantMatrix} for sparse24_int4_mma.cu (statistics: `groupStatsF16`). */
export function packSparse24Int4(w: NMQuantMatrix): Sparse24Int4 {
  check24(w, 'matmulNMQuant (tensor cores)');
  if (w.bits !== 4) throw new SparqError('E_KERNEL_UNSUPPORTED', `2:4 + INT4 kernel: bits must be 4, found ${w.bits}`);
  const sh = shapeOf(w.rows, w.cols);
  const L = w.cols / 2;
  const codes = new Uint8Array(w.rows * L);
  const rb = packedRowBytes(L, 4);
  for (let r = 0; r < w.rows; r++) codes.set(unpackBits(w.codes, r * rb, L, 4), r * L);
  const padded = padRows(codes, w.rows, L, sh.nPad, sh.kPad / 2, (n) => new Uint8Array(n));
  return { ...sh, codes: packInt4Fragments(padded, sh.nPad, sh.kPad / 2, sh.nPad, sh.kPad / 2), meta: metaOf(w.indices, sh) };
}

/**
 * Original column (within the padded weight) of compressed element
 * `(row, compressed col)` of tile `rt`, k-block `kb`, as `mma.sp` with
 * sparsity selector 0 resolves it from the kernels' metadata registers:
 * lane (g, t) loads u32 word `kb·nPad + 32·(rt >> 1) + 4g + 2·(rt & 1) + (t & 1)`
 * (`meta_word` in native/kernels/layout.cuh); rows g and g + 8 of chunk j (0–7, four
 * columns each) are described by lane (g, j >> 2), in its low / high 16 bits,
 * nibble j & 3, 2-bit field = which of the chunk's two kept values.
 */
export function mmaSpColumn(meta32: Uint32Array, nPad: number, rt: number, kb: number, rowInTile: number, ccol: number): number {
  const g = rowInTile & 7;
  const chunk = ccol >> 1;
  const word = meta32[metaWordIndex(nPad, rt, kb, 4 * g + (chunk >> 2))]!;
  const half = rowInTile >= 8 ? 16 : 0;
  const pos = (word >>> (half + 4 * (chunk & 3) + 2 * (ccol & 1))) & 3;
  return kb * 32 + 4 * chunk + pos;
}

/** u32 metadata word lane `lane` = 4g + t loads for tile `rt`, k-block `kb` (lanes t = 2, 3 read t & 1's word: selector 0 ignores them). */
export function metaWordIndex(nPad: number, rt: number, kb: number, lane: number): number {
  return kb * nPad + 32 * (rt >> 1) + 4 * (lane >> 2) + 2 * (rt & 1) + (lane & 1);
}

/** The u16 CUTLASS metadata viewed as the kernels' little-endian u32 words. */
export function metaWords(meta: Uint16Array): Uint32Array {
  const out = new Uint32Array(meta.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (meta[2 * i]! | (meta[2 * i + 1]! << 16)) >>> 0;
  return out;
}

/**
 * Emulates the sparse kernels' reads of a packed 2:4 weight: each lane's A
 * fragment element (from `compressedAt(row, ccol)` — the caller decodes the
 * f16 or INT4 fragments) is placed at the column `mma.sp` gives it
 * ({@link mmaSpColumn}). Returns the dense `[nPad, kPad]` weight the kernel multiplies.
 */
export function emulateSparse24(sh: Sparse24Shape, meta: Uint16Array, compressedAt: (row: number, ccol: number) => number): Float64Array {
  const meta32 = metaWords(meta);
  const out = new Float64Array(sh.nPad * sh.kPad);
  const seen = new Uint8Array(sh.nPad * sh.kPad);
  for (let rt = 0; rt < sh.nPad / 16; rt++) {
    for (let kb = 0; kb < sh.kPad / 32; kb++) {
      for (let lane = 0; lane < 32; lane++) {
        for (let reg = 0; reg < 4; reg++) {
          for (let h = 0; h < 2; h++) {
            const { row, col } = fragmentElement(lane, reg, h);
            const r = rt * 16 + row;
            const c = mmaSpColumn(meta32, sh.nPad, rt, kb, row, col);
            if (seen[r * sh.kPad + c]) throw new SparqError('E_INTERNAL', `2:4 emulation: column ${c} of row ${r} selected twice`);
            seen[r * sh.kPad + c] = 1;
            out[r * sh.kPad + c] = compressedAt(r, kb * 16 + col);
          }
        }
      }
    }
  }
  return out;
}
