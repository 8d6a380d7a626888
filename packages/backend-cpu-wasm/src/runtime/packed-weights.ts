/**
 * Uploads packed weights (`docs/format.md` §2–§6) into the wasm heap once and
 * caches them by object identity, like dense weights. The device form is what
 * the kernels in `assembly/lib/packed.ts` read:
 * - codes and N:M indices copied as packed (§1), each array padded by 16 bytes
 *   so the kernels' unaligned u16/v128 reads past a row end stay in bounds;
 * - scales and zero-points widened to f32 and interleaved as (scale, zero)
 *   pairs `[rows, G, 2]` (f16 exactly; SpQR's bilevel statistics decoded per §6);
 * - N:M f32 values copied; SpQR outliers as u32 row pointers / u32 columns / f32 values;
 * - 4-bit codes with groups of 32k, and their statistics, stored in blocks of
 *   16 quads × k-segments instead of row by row (`interleaveQuadSegments`,
 *   `reorderQ4Stats`, which also groups each quad's 4 scales and 4
 *   zero-points; the GEMV reads sequential streams with the segment's
 *   activations in L1, and the GEMM decoder follows the same layout);
 * - SpQR bases of 2–4 bits with groups of 16 or 32k (`isSpqrQ4`) in that Q4
 *   layout too (nibbles, decoded statistics in the Q4 order), plus, for the
 *   GEMV, the base weight at each outlier (`outlierBases`, f32);
 * - 2:4 f32 values in quads of 4 rows, with a position byte per row and 4
 *   columns (`quadNM24`: rows sit in SIMD lanes in every kernel that reads them);
 * - extra GEMV copies (memory cost on top of the packed size): for 2:4 f32,
 *   the position bytes (1 byte per 4 columns); for 2:4 + 4-bit with groups of
 *   32, 64 or 128k (and 2:4 + 8-bit, codes as bytes), codes, positions and statistics re-packed into one stream of 8-row
 *   octets (`packNMQ4Stream`), i.e. the codes and indices are held twice, and
 *   the same for N:M + 4-bit with M dividing 16 (`packNMQ4CStream`);
 *   for every other N:M pattern with M dividing 128 (f32 or quantized), each
 *   kept slot's column within its 128-column block as a byte (`keptPos`, 1
 *   byte per kept slot; also for the GEMM, so not only a GEMV copy), read by
 *   the any-N:M GEMV and sparse GEMM instead of the §3 index bits.
 * Contents the kernels rely on (N:M positions, outlier columns) are checked here,
 * once, so a malformed weight fails with `E_ARG` instead of corrupting memory.
 */
import { f16ToF32, SparqError, validatePacked, type BilevelStat, type NMMatrix, type NMQuantMatrix, type PackedMatrix, type QuantizedMatrix, type SpqrMatrix } from '@sparq/tensor';
import type { WasmHeap } from './wasm-heap';

/** Kind codes shared with the wasm descriptor. */
export const PACKED_KIND = { quant: 1, nm: 2, 'nm-quant': 3, spqr: 4 } as const;

/** A packed weight resident in wasm memory (byte offsets; 0 = absent). */
export interface PackedWeight {
  readonly kind: (typeof PACKED_KIND)[keyof typeof PACKED_KIND];
  readonly rows: number;
  readonly cols: number;
  readonly bits: number;
  readonly groupSize: number;
  readonly n: number;
  readonly m: number;
  readonly codes: number;
  readonly codeRow: number;
  /** (scale, zero) f32 pairs `[rows, G, 2]`. */
  readonly stats: number;
  /** Columns per k-segment of the Q4 GEMV layout (`interleaveQuadSegments`; groups of 32k) or the 2:4 + 4-bit one (`packNMQ4Stream`), else 0. */
  readonly segCols: number;
  readonly idx: number;
  readonly idxRow: number;
  readonly idxBits: number;
  readonly values: number;
  readonly orp: number;
  readonly ocol: number;
  readonly oval: number;
  /** SpQR in the Q4 GEMV layout: per outlier, the base weight it replaces (f32), else 0. */
  readonly obase: number;
  /** The 2:4 + 4-bit GEMV stream (`packNMQ4Stream`), or 0. */
  readonly rcodes: number;
  /** 2:4 f32 positions of the quad layout (`quadNM24`; `values` is then in quads too), or 0. */
  readonly ridx: number;
  /** Column byte of every kept slot (its column within its 128-column block), `[rows, L]` (`keptPos`; N:M patterns other than 2:4 with M dividing 128), or 0. */
  readonly kpos: number;
  /** Every heap block of this weight (freed together). */
  readonly blocks: readonly number[];
}

const PAD = 16;

/** Code `i` of a §1 LSB-first stream starting at byte `off` (this backend's own reader). */
function code(bytes: Uint8Array, off: number, i: number, bits: number): number {
  const bit = i * bits;
  const p = off + (bit >> 3);
  const v = bytes[p]! | ((bytes[p + 1] ?? 0) << 8);
  return (v >> (bit & 7)) & ((1 << bits) - 1);
}

const rowBytes = (count: number, bits: number): number => Math.ceil((count * bits) / 8);
const indexBits = (m: number): number => Math.max(1, Math.ceil(Math.log2(m)));

/**
 * Group sizes of the N:M + 4-bit GEMV streams: 128k, or 32 and 64 (a kernel step, one activation block, is
 * 128 columns or the whole group; groups such as 96 or 192 would straddle steps).
 */
const nmq4Group = (gs: number): boolean => gs % 128 === 0 || gs === 32 || gs === 64;

/**
 * Whether a 2:4 + 2/3/4/8-bit weight gets the re-packed GEMV layout (2–4-bit
 * codes held as 4-bit nibbles there, 8-bit ones as bytes): groups of 32, 64
 * or 128k columns.
 */
export function isNMQ4Fast(w: PackedMatrix): boolean {
  return w.kind === 'nm-quant' && w.n === 2 && w.m === 4 && (w.bits <= 4 || w.bits === 8) && nmq4Group(w.groupSize);
}

/**
 * Whether a §2 weight's codes are stored quad-interleaved as 4-bit nibbles
 * (2, 3 or 4 bits, groups of 32k, or of 16 in rows of 32k columns): 2- and
 * 3-bit codes are widened to nibbles at upload (`nibbleRows`), so the 4-bit
 * GEMV and its SIMD decoder run them — 4 bits per weight in wasm memory
 * instead of 2 or 3.
 */
export function isQ4Quad(w: PackedMatrix): boolean {
  return w.kind === 'quant' && w.bits <= 4 && (w.groupSize % 32 === 0 || (w.groupSize === 16 && w.cols % 32 === 0));
}

/**
 * Whether a SpQR weight gets the Q4 GEMV layout (its 2–4-bit base codes as
 * nibbles in blocks of quads × k-segments, statistics in the Q4 order, plus
 * the f32 base weight at each outlier): groups of 16 (two per 32-code
 * vector) or of 32k columns, rows of 32k columns.
 */
export function isSpqrQ4(w: PackedMatrix): w is SpqrMatrix {
  return w.kind === 'spqr' && w.bits <= 4 && (w.groupSize === 16 || w.groupSize % 32 === 0) && w.cols % 32 === 0;
}

/** Columns per k-segment of the Q4 GEMV layout of `w` (whole 32-column chunks: pairs of groups of 16), or 0 without that layout. */
function q4SegmentCols(w: QuantizedMatrix | SpqrMatrix): number {
  if (isQ4Quad(w) || isSpqrQ4(w)) return gemvSegmentCols(w.cols, Math.max(32, w.groupSize));
  return 0;
}

/**
 * Bits per code of the uploaded codes: 4 where 2- and 3-bit codes are held as
 * nibbles (§2 weights in the Q4 layout, SpQR bases), else the stored width.
 */
function deviceBits(w: QuantizedMatrix | SpqrMatrix): number {
  if (w.kind === 'quant') return isQ4Quad(w) ? 4 : w.bits;
  return w.bits <= 4 ? 4 : w.bits;
}

/**
 * `count` codes of `bits` per row (§1) as 4-bit rows (§1 with b = 4): each
 * code in a nibble, exact. With whole bytes per 8 codes (count % 8 = 0, as
 * for groups of 32k) 2-bit rows go a byte (4 codes) and 3-bit rows 3 bytes (8
 * codes) at a time — a 7B model's 3-bit layers are billions of codes.
 */
function nibbleRows(codes: Uint8Array, rows: number, count: number, bits: number): Uint8Array {
  if (bits === 4) return codes;
  const src = rowBytes(count, bits);
  const dst = rowBytes(count, 4);
  const out = new Uint8Array(rows * dst);
  if (count % 8 !== 0 || (bits !== 2 && bits !== 3)) {
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < count; i++) out[r * dst + (i >> 1)] |= code(codes, r * src, i, bits) << (4 * (i & 1));
    }
    return out;
  }
  const n = rows * src;
  if (bits === 2) {
    for (let i = 0, o = 0; i < n; i++, o += 2) {
      const b = codes[i]!;
      out[o] = (b & 3) | ((b << 2) & 0x30);
      out[o + 1] = ((b >> 4) & 3) | ((b >> 2) & 0x30);
    }
    return out;
  }
  for (let i = 0, o = 0; i < n; i += 3, o += 4) {
    const w = codes[i]! | (codes[i + 1]! << 8) | (codes[i + 2]! << 16); // 8 codes, LSB first
    out[o] = (w & 7) | ((w >> 3) & 7) << 4;
    out[o + 1] = ((w >> 6) & 7) | ((w >> 9) & 7) << 4;
    out[o + 2] = ((w >> 12) & 7) | ((w >> 15) & 7) << 4;
    out[o + 3] = ((w >> 18) & 7) | ((w >> 21) & 7) << 4;
  }
  return out;
}

/** Quads (4 rows) per block of the 4-bit GEMV layout (must match Q4_QB in assembly/lib/packed.ts). */
export const Q4_BLOCK_QUADS = 16;

/**
 * Columns per k-segment of the 4-bit and 2:4 + 4-bit GEMV layouts for a row
 * of `cols` columns in groups of `gs`: whole groups, split evenly into
 * segments of at most about 4096 columns (≤ 8 KiB of i16 activations, or
 * ≤ 10 KiB of 2:4 + 4-bit swizzle tables, which stay in L1 while a block of
 * rows streams past them). k ≤ 4096 is one segment. Measured at k = 11008 (1
 * thread, from DRAM): 3 segments of 3712 columns 1.3–1.4× faster than one for
 * 4-bit (1.2× for 2:4 + 4-bit); segments of 2048 columns gained ≤ 1.1× there
 * and lost at k = 4096.
 */
export function gemvSegmentCols(cols: number, gs: number): number {
  const groups = cols / gs;
  return gs * Math.ceil(groups / Math.ceil(cols / 4096));
}

/**
 * 4-bit codes re-ordered for the Q4 GEMV (rows padded to a multiple of 4 with
 * zero codes): blocks of 16 quads (4 rows each); within a block, k-segments of
 * `segCols` columns; within a segment, quad after quad; within a quad, 16-byte
 * chunk c of its 4 rows as 64 contiguous bytes. The kernel walks block →
 * segment → quad, so a thread reads one sequential stream while the segment's
 * activations stay in L1 for all 16 quads. (Row-major quads re-read all k
 * activations per quad: at k = 11008 they no longer fit L1 next to the code
 * stream and the GEMV ran ~1.5× slower from DRAM.) One segment = the plain
 * quad-interleaved layout.
 */
function interleaveQuadSegments(codes: Uint8Array, rows: number, codeRow: number, segCols: number): Uint8Array {
  const quads = Math.ceil(rows / 4);
  const out = new Uint8Array(quads * 4 * codeRow);
  // Word copies (codeRow and segments are multiples of 16 bytes); the source may be unaligned.
  const src = codes.byteOffset % 4 === 0 ? codes : codes.slice();
  const s32 = new Uint32Array(src.buffer, src.byteOffset, (rows * codeRow) >> 2);
  const o32 = new Uint32Array(out.buffer);
  const segBytes = segCols >> 1;
  for (let b0 = 0; b0 < quads; b0 += Q4_BLOCK_QUADS) {
    const qb = Math.min(Q4_BLOCK_QUADS, quads - b0);
    const blockBase = b0 * 4 * codeRow;
    for (let s0 = 0; s0 < codeRow; s0 += segBytes) {
      const len = Math.min(segBytes, codeRow - s0);
      const segBase = blockBase + s0 * 4 * qb;
      for (let i = 0; i < qb; i++) {
        for (let lane = 0; lane < 4; lane++) {
          const r = 4 * (b0 + i) + lane;
          if (r >= rows) continue;
          const from = (r * codeRow + s0) >> 2;
          const to = (segBase + i * 4 * len + lane * 16) >> 2;
          for (let c = 0; c < len >> 2; c += 4) {
            const o = to + c * 4;
            o32[o] = s32[from + c]!;
            o32[o + 1] = s32[from + c + 1]!;
            o32[o + 2] = s32[from + c + 2]!;
            o32[o + 3] = s32[from + c + 3]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * (scale, zero) pairs `[rows, G, 2]` re-ordered for the Q4 GEMV layout (rows
 * padded to a multiple of 4 with zeros): blocks of 16 quads → k-segments of
 * `gps` groups → the block's quads → groups, each group's record the quad's 4
 * scales then its 4 zero-points (8 f32), the order and shape in which the
 * kernel reads them (`q4StatOffset` in assembly/lib/packed.ts: one vector
 * load gives a statistic of the quad's 4 rows).
 */
function reorderQ4Stats(stats: Float32Array, rows: number, G: number, gps: number): Float32Array {
  const quads = Math.ceil(rows / 4);
  const out = new Float32Array(quads * 4 * G * 2);
  for (let r = 0; r < rows; r++) {
    const q = r >> 2;
    const b0 = q - (q % Q4_BLOCK_QUADS);
    const quadsBlk = Math.min(Q4_BLOCK_QUADS, quads - b0);
    for (let t0 = 0; t0 < G; t0 += gps) {
      const gl = Math.min(gps, G - t0);
      for (let t = t0; t < t0 + gl; t++) {
        const rec = 8 * (b0 * G + t0 * quadsBlk + (q - b0) * gl + (t - t0)) + (r & 3);
        out[rec] = stats[2 * (r * G + t)]!;
        out[rec + 4] = stats[2 * (r * G + t) + 1]!;
      }
    }
  }
  return out;
}

/**
 * Whether an N:M weight (f32 or quantized values) gets the kept-slot column
 * bytes of the any-N:M kernels: M divides 128 (128-column blocks hold whole
 * groups) and it is not a 2:4 weight with its own GEMV layout (`isNM24Fast`,
 * `isNMQ4Fast`; their GEMM reads the §3 bytes). So 2:4 weights the 2:4 kernels
 * do not take (odd groups, k % 8 = 4) gather too instead of decoding rows
 * exactly.
 */
export function hasKeptPos(w: PackedMatrix): w is NMMatrix | NMQuantMatrix {
  return (w.kind === 'nm' || w.kind === 'nm-quant') && 128 % w.m === 0 && !isNM24Fast(w) && !isNMQ4Fast(w);
}

/**
 * The column of every kept slot of an N:M weight within its 128-column block
 * (one byte, < 128), `[rows, L]`: (group start + §3 position) mod 128.
 * Indices are checked by `checkIndices` first.
 */
function keptPos(indices: Uint8Array, rows: number, cols: number, n: number, m: number): Uint8Array {
  const L = (cols / m) * n;
  const ib = indexBits(m);
  const rb = rowBytes(L, ib);
  const out = new Uint8Array(rows * L);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let s = 0; s < L; s++, o++) out[o] = ((Math.floor(s / n) * m) & 127) + code(indices, r * rb, s, ib);
  }
  return out;
}

/** Whether a 2:4 f32 weight gets the quad GEMV layout (`quadNM24`). */
export function isNM24Fast(w: PackedMatrix): boolean {
  return w.kind === 'nm' && w.n === 2 && w.m === 4 && w.cols % 8 === 0;
}

/**
 * 2:4 f32 values and positions in the quad layout of the GEMV (`gemvNM24` in
 * assembly/lib/packed.ts), rows padded with zeros to a multiple of 4:
 * - values: per quad of 4 rows, per 4-column group g, 8 f32 — slot 0 of rows
 *   0–3, then slot 1 — so a row's kept value s lies 16·s bytes after its first;
 * - positions: per quad, per group, one byte per row: 4·p0 | 4·p1 << 4 (p0 < p1
 *   the kept columns within the group), ready to become swizzle indices.
 * The §3 indices are also kept as uploaded (the GEMM reads them).
 */
function quadNM24(values: Float32Array, indices: Uint8Array, rows: number, cols: number): { values: Float32Array; pos: Uint8Array } {
  const quads = Math.ceil(rows / 4);
  const G4 = cols >> 2;
  const L = cols >> 1;
  const rb = cols >> 3; // one §3 byte per 2 groups
  const qv = new Float32Array(quads * 4 * L);
  const pos = new Uint8Array(quads * cols);
  for (let r = 0; r < rows; r++) {
    const q = r >> 2;
    const l = r & 3;
    for (let g = 0; g < G4; g++) {
      const o = (q * G4 + g) * 8 + l;
      qv[o] = values[r * L + 2 * g]!;
      qv[o + 4] = values[r * L + 2 * g + 1]!;
      const b = (indices[r * rb + (g >> 1)]! >> (4 * (g & 1))) & 15;
      pos[(q * G4 + g) * 4 + l] = 4 * (b & 3) | (4 * (b >> 2)) << 4;
    }
  }
  return { values: qv, pos };
}

/** Heap bytes of one uploaded array of `len` bytes (padding, then 64-byte alignment as the heap allocates). */
const blockBytes = (len: number): number => Math.ceil((len + PAD) / 64) * 64;

/**
 * Heap bytes the device form of `w` takes (every block `upload` allocates), so
 * the backend can choose a memory with room before uploading. Must follow
 * `upload` exactly; a test compares it with the allocator after each upload.
 */
export function packedUploadBytes(w: PackedMatrix): number {
  const { rows, cols } = w;
  const kpos = hasKeptPos(w) ? blockBytes(rows * (cols / w.m) * w.n) : 0;
  switch (w.kind) {
    case 'quant': {
      // The Q4 GEMV layout: 4-bit rows, codes and statistics padded to a multiple of 4 rows.
      const layoutRows = isQ4Quad(w) ? Math.ceil(rows / 4) * 4 : rows;
      return blockBytes(isQ4Quad(w) ? layoutRows * rowBytes(cols, deviceBits(w)) : w.codes.length) + blockBytes(layoutRows * (cols / w.groupSize) * 8);
    }
    case 'nm':
      return isNM24Fast(w)
        ? blockBytes(w.indices.length) + blockBytes(Math.ceil(rows / 4) * 4 * (cols >> 1) * 4) + blockBytes(Math.ceil(rows / 4) * cols)
        : blockBytes(w.indices.length) + blockBytes(w.values.length * 4) + kpos;
    case 'nm-quant':
      return (
        blockBytes(w.codes.length) +
        blockBytes(rows * (cols / w.groupSize) * 8) +
        blockBytes(w.indices.length) +
        (isNMQ4Fast(w) ? blockBytes(octetStreamBytes(rows, cols, w.groupSize, nmq4GroupBytes(w.groupSize, w.bits))) : 0) +
        (isNMQ4Chunked(w) ? blockBytes(octetStreamBytes(rows, cols, w.groupSize, nmq4cGroupBytes(w.groupSize, nmq4ChunkVectors(w), w.bits))) : 0) +
        kpos
      );
    case 'spqr': {
      const nnz = w.outliers.rowPtr[rows] ?? 0;
      // The Q4 GEMV layout pads codes and statistics to a multiple of 4 rows and adds the outliers' base weights.
      const layoutRows = isSpqrQ4(w) ? Math.ceil(rows / 4) * 4 : rows;
      return (
        blockBytes(layoutRows * rowBytes(cols, deviceBits(w))) +
        blockBytes(layoutRows * (cols / w.groupSize) * 8) +
        blockBytes((rows + 1) * 4) +
        (isSpqrQ4(w) ? 3 : 2) * blockBytes(nnz * 4)
      );
    }
  }
}

/** The weight cache of one heap. */
export class PackedWeightCache {
  private readonly entries = new WeakMap<PackedMatrix, PackedWeight>();
  // Frees the wasm copy of a packed weight that was garbage-collected without release().
  private readonly finalizer = new FinalizationRegistry<readonly number[]>((blocks) => {
    if (!this.alive) return;
    for (const b of blocks) if (this.heap.alloc.sizeOf(b) !== undefined) this.heap.alloc.free(b);
  });
  private alive = true;

  constructor(private readonly heap: WasmHeap) {}

  /** The device copy of `w`, uploading (and validating) it on first use. */
  get(w: PackedMatrix): PackedWeight {
    const hit = this.entries.get(w);
    if (hit) return hit;
    const blocks: number[] = [];
    try {
      const e = this.upload(w, blocks);
      this.entries.set(w, e);
      this.finalizer.register(w, blocks, e);
      return e;
    } catch (err) {
      for (const b of blocks) this.heap.alloc.free(b);
      throw err;
    }
  }

  /** True when `w` has a device copy. */
  has(w: PackedMatrix): boolean {
    return this.entries.has(w);
  }

  /** Frees the device copy of `w`, if any. */
  release(w: PackedMatrix): void {
    const e = this.entries.get(w);
    if (!e) return;
    this.entries.delete(w);
    this.finalizer.unregister(e);
    for (const b of e.blocks) this.heap.alloc.free(b);
  }

  /** Marks the cache dead (the finalizer becomes a no-op). */
  dispose(): void {
    this.alive = false;
  }

  private bytes(src: Uint8Array, blocks: number[]): number {
    const p = this.heap.alloc.alloc(src.length + PAD);
    blocks.push(p);
    const u8 = this.heap.u8; // after alloc: the memory may have grown
    u8.set(src, p);
    u8.fill(0, p + src.length, p + src.length + PAD);
    return p;
  }

  private words(src: Float32Array | Uint32Array, blocks: number[]): number {
    return this.bytes(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), blocks);
  }

  private upload(w: PackedMatrix, blocks: number[]): PackedWeight {
    validatePacked(w);
    const { rows, cols } = w;
    const base = {
      kind: PACKED_KIND[w.kind],
      rows,
      cols,
      bits: 0,
      groupSize: 1,
      n: 0,
      m: 0,
      codes: 0,
      codeRow: 0,
      stats: 0,
      segCols: 0,
      idx: 0,
      idxRow: 0,
      idxBits: 0,
      values: 0,
      orp: 0,
      ocol: 0,
      oval: 0,
      obase: 0,
      rcodes: 0,
      ridx: 0,
      kpos: 0,
      blocks,
    };
    switch (w.kind) {
      case 'quant': {
        const G = cols / w.groupSize;
        const segCols = q4SegmentCols(w);
        // The Q4 layout holds 4-bit rows whatever the stored width.
        const bits = deviceBits(w);
        const codeRow = rowBytes(cols, bits);
        return {
          ...base,
          bits,
          groupSize: w.groupSize,
          codes: this.bytes(segCols ? interleaveQuadSegments(nibbleRows(w.codes, rows, cols, w.bits), rows, codeRow, segCols) : w.codes, blocks),
          codeRow,
          segCols,
          stats: this.words(
            segCols
              ? reorderQ4Stats(groupStats(rows, G, w.bits, w.scales, w.zeros, w.sym), rows, G, segCols / w.groupSize)
              : groupStats(rows, G, w.bits, w.scales, w.zeros, w.sym),
            blocks,
          ),
        };
      }
      case 'nm': {
        const L = (cols / w.m) * w.n;
        checkIndices(w.indices, rows, L, w.n, w.m);
        const quad = isNM24Fast(w) ? quadNM24(w.values, w.indices, rows, cols) : undefined;
        return {
          ...base,
          n: w.n,
          m: w.m,
          idx: this.bytes(w.indices, blocks),
          idxRow: rowBytes(L, indexBits(w.m)),
          idxBits: indexBits(w.m),
          values: this.words(quad ? quad.values : w.values, blocks),
          ridx: quad ? this.bytes(quad.pos, blocks) : 0,
          kpos: hasKeptPos(w) ? this.bytes(keptPos(w.indices, rows, cols, w.n, w.m), blocks) : 0,
        };
      }
      case 'nm-quant': {
        const L = (cols / w.m) * w.n;
        const G = cols / w.groupSize;
        checkIndices(w.indices, rows, L, w.n, w.m);
        const codeRow = rowBytes(L, w.bits);
        const stats = groupStats(rows, G, w.bits, w.scales, w.zeros, w.sym);
        const segCols = isNMQ4Fast(w) || isNMQ4Chunked(w) ? gemvSegmentCols(cols, w.groupSize) : 0;
        return {
          ...base,
          bits: w.bits,
          groupSize: w.groupSize,
          n: w.n,
          m: w.m,
          codes: this.bytes(w.codes, blocks),
          codeRow,
          stats: this.words(stats, blocks),
          idx: this.bytes(w.indices, blocks),
          idxRow: rowBytes(L, indexBits(w.m)),
          idxBits: indexBits(w.m),
          rcodes: isNMQ4Fast(w)
            ? this.bytes(packNMQ4Stream(w.codes, w.indices, stats, rows, cols, w.bits, w.groupSize, segCols), blocks)
            : isNMQ4Chunked(w)
              ? this.bytes(packNMQ4CStream(w.codes, w.indices, stats, rows, cols, w.n, w.m, w.bits, w.groupSize, segCols), blocks)
              : 0,
          kpos: hasKeptPos(w) ? this.bytes(keptPos(w.indices, rows, cols, w.n, w.m), blocks) : 0,
          segCols,
        };
      }
      case 'spqr': {
        const G = cols / w.groupSize;
        const o = w.outliers;
        const nnz = o.rowPtr[rows]!;
        const ocol = new Uint32Array(nnz);
        const oval = new Float32Array(nnz);
        for (let r = 0; r < rows; r++) {
          const p0 = o.rowPtr[r]!;
          const p1 = o.rowPtr[r + 1]!;
          if (p1 < p0 || p1 > nnz) throw bad(`outlier row pointers of row ${r} decrease or exceed nnz`, `${p0} ≤ rowPtr[${r + 1}] ≤ ${nnz}`, p1);
          for (let p = p0; p < p1; p++) {
            const c = o.cols[p]!;
            if (c >= cols || (p > p0 && c <= ocol[p - 1]!)) throw bad(`outlier ${p} of row ${r}: column out of range or not increasing`, `< ${cols}`, c);
            ocol[p] = c;
            oval[p] = f16ToF32(o.values[p]!);
          }
        }
        const stats = interleave(bilevel(w.scales, rows, G), bilevel(w.zeros, rows, G));
        const nibbles = deviceBits(w) === 4 ? nibbleRows(w.codes, rows, cols, w.bits) : w.codes;
        const codeRow = rowBytes(cols, deviceBits(w));
        const segCols = q4SegmentCols(w);
        return {
          ...base,
          // Base codes of 2–4 bits held as nibbles: the SIMD f64 decoder (decodeSpan) reads 16 per 8 bytes.
          bits: deviceBits(w),
          groupSize: w.groupSize,
          codes: this.bytes(segCols ? interleaveQuadSegments(nibbles, rows, codeRow, segCols) : nibbles, blocks),
          codeRow,
          segCols,
          stats: this.words(segCols ? reorderQ4Stats(stats, rows, G, segCols / w.groupSize) : stats, blocks),
          orp: this.words(Uint32Array.from(o.rowPtr), blocks),
          ocol: this.words(ocol, blocks),
          oval: this.words(oval, blocks),
          obase: segCols ? this.words(outlierBases(w, stats, ocol, nibbles, codeRow), blocks) : 0,
        };
      }
    }
  }
}

/**
 * Per outlier, the base weight it replaces (§6: `fround(s · (q − z))` at its position): the SpQR Q4 GEMV runs
 * the base over every column with int8 activations, then adds Σ (v·x − base·x̂) per row, so the outliers
 * multiply the exact activations (the `matmulSpqr` contract).
 */
function outlierBases(w: SpqrMatrix, stats: Float32Array, ocol: Uint32Array, nibbles: Uint8Array, codeRow: number): Float32Array {
  const G = w.cols / w.groupSize;
  const rp = w.outliers.rowPtr;
  const out = new Float32Array(ocol.length);
  for (let r = 0; r < w.rows; r++) {
    for (let p = rp[r]!; p < rp[r + 1]!; p++) {
      const c = ocol[p]!;
      const t = r * G + Math.floor(c / w.groupSize);
      out[p] = stats[2 * t]! * (code(nibbles, r * codeRow, c, 4) - stats[2 * t + 1]!);
    }
  }
  return out;
}

function bad(message: string, expected: unknown, found: unknown): SparqError {
  return new SparqError('E_ARG', `cpu-wasm: packed weight: ${message}`, { details: { expected, found } });
}

/** §2 statistics as f32 (scale, zero) pairs: scales widened from f16, zero-points unpacked (sym: 2^(bits−1)). */
function groupStats(rows: number, G: number, bits: number, scales: Uint16Array, zeros: Uint8Array | undefined, sym: boolean): Float32Array {
  const out = new Float32Array(rows * G * 2);
  const zb = rowBytes(G, bits);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < G; t++) {
      out[2 * (r * G + t)] = f16ToF32(scales[r * G + t]!);
      out[2 * (r * G + t) + 1] = sym ? 2 ** (bits - 1) : code(zeros!, r * zb, t, bits);
    }
  }
  return out;
}

/** (scale, zero) pairs from two `[rows, G]` arrays. */
function interleave(scale: Float32Array, zero: Float32Array): Float32Array {
  const out = new Float32Array(scale.length * 2);
  for (let i = 0; i < scale.length; i++) {
    out[2 * i] = scale[i]!;
    out[2 * i + 1] = zero[i]!;
  }
  return out;
}

/** §6: first-level values `fround(f32(statScale) · (code − f32(statZero)))`, `[rows, G]`. */
function bilevel(s: BilevelStat, rows: number, G: number): Float32Array {
  const out = new Float32Array(rows * G);
  const cb = rowBytes(G, s.bits);
  for (let r = 0; r < rows; r++) {
    const rg = Math.floor(r / s.groupRows) * G;
    for (let t = 0; t < G; t++) {
      out[r * G + t] = Math.fround(f16ToF32(s.scale[rg + t]!) * (code(s.codes, r * cb, t, s.bits) - f16ToF32(s.zero[rg + t]!)));
    }
  }
  return out;
}

/** Checks that N:M positions are strictly increasing and below m within every group (§3). */
function checkIndices(indices: Uint8Array, rows: number, L: number, n: number, m: number): void {
  const ib = indexBits(m);
  const rb = rowBytes(L, ib);
  for (let r = 0; r < rows; r++) {
    let prev = -1;
    for (let s = 0; s < L; s++) {
      if (s % n === 0) prev = -1;
      const i = code(indices, r * rb, s, ib);
      if (i >= m || i <= prev) throw bad(`N:M positions of row ${r}, group ${Math.floor(s / n)} are not strictly increasing below ${m}`, `< ${m}, increasing`, i);
      prev = i;
    }
  }
}

/** Octets (8 rows) per block of the 2:4 + 4-bit GEMV layout (must match NMQ4_OB in assembly/lib/packed.ts). */
export const NMQ4_BLOCK_OCTETS = 8;

/**
 * The octet stream shared by the NMQ4 and NMQ4C GEMV layouts: octets of 8 rows
 * (the last padded with zero rows) in blocks of `NMQ4_BLOCK_OCTETS` →
 * k-segments of `segCols` columns (whole groups) → octets → groups of
 * `groupBytes`, each starting with 64 bytes of statistics — the octet's 8 f32
 * scales, then its 8 i32 zero-points — written here from the (scale, zero)
 * pairs of `groupStats`. Returns the zeroed buffer and the byte offset of
 * (octet o, group t); the caller fills the rest of each group.
 */
function octetStream(
  stats: Float32Array,
  rows: number,
  cols: number,
  gs: number,
  segCols: number,
  groupBytes: number,
): { out: Uint8Array; groupOffset: (o: number, t: number) => number } {
  const G = cols / gs;
  const gps = segCols / gs;
  const octets = Math.ceil(rows / 8);
  const out = new Uint8Array(octetStreamBytes(rows, cols, gs, groupBytes));
  const view = new DataView(out.buffer);
  const groupOffset = (o: number, t: number): number => {
    const b0 = o - (o % NMQ4_BLOCK_OCTETS);
    const nb = Math.min(NMQ4_BLOCK_OCTETS, octets - b0);
    const t0 = t - (t % gps);
    const gl = Math.min(gps, G - t0);
    return (b0 * G + t0 * nb + (o - b0) * gl + (t - t0)) * groupBytes;
  };
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < G; t++) {
      const sb = groupOffset(r >> 3, t);
      view.setFloat32(sb + 4 * (r & 7), stats[2 * (r * G + t)]!, true);
      view.setInt32(sb + 32 + 4 * (r & 7), stats[2 * (r * G + t) + 1]!, true);
    }
  }
  return { out, groupOffset };
}

/**
 * 2:4 + 2/3/4/8-bit weights as the NMQ4 GEMV stream (`gemvNMQ4` in
 * assembly/lib/packed.ts; the bytes of §3 + §4 plus 8 per row and group):
 * octets of 8 rows (the last padded with zero rows), laid out as blocks of
 * `NMQ4_BLOCK_OCTETS` octets → k-segments of `segCols` columns (whole groups)
 * → octets → groups, so that a thread reads one sequential stream while a
 * segment's activations stay in L1. Per octet and group: 64 bytes of
 * statistics — 8 f32 scales, then 8 i32 zero-points — then per 128-column step
 * 8 × 48 bytes: positions M (16 B) and codes C0, C1 (16 B each) of 4
 * consecutive 4-column groups 4q … 4q+3. Byte lane b is row 8o + (b >> 1),
 * kept slot (b & 1) of its group: M's bits [2f, 2f+2) hold the slot's position
 * in group 4q + f, C0's low / high nibble its codes in groups 4q / 4q+1, C1's
 * in 4q+2 / 4q+3. 8-bit codes take 8 × 80 bytes per step instead: M, then
 * one byte per slot for each of the 4 groups (16 B each). `stats` are the
 * (scale, zero) pairs of `groupStats`; zero-points are integers here.
 */
function packNMQ4Stream(
  codes: Uint8Array,
  indices: Uint8Array,
  stats: Float32Array,
  rows: number,
  cols: number,
  bits: number,
  gs: number,
  segCols: number,
): Uint8Array {
  const { out, groupOffset } = octetStream(stats, rows, cols, gs, segCols, nmq4GroupBytes(gs, bits));
  const codeRow = rowBytes(cols >> 1, bits); // 2 kept codes per 4 columns
  const unit = nmq4Unit(bits); // bytes per octet and 16 columns
  const idxRow = cols >> 3; // 2 kept 2-bit positions per 4 columns
  for (let r = 0; r < rows; r++) {
    const o = r >> 3;
    const lr = r & 7;
    for (let grp = 0; grp < cols >> 2; grp++) {
      const col = grp << 2;
      const t = Math.floor(col / gs);
      const step = (col - t * gs) >> 7; // 128-column step within the group (groups of 32 / 64: one shorter step)
      const within = ((col - t * gs) >> 2) & 31; // 4-column group within the step
      const base = groupOffset(o, t) + 64 + step * 8 * unit + (within >> 2) * unit;
      const f = within & 3;
      for (let slot = 0; slot < 2; slot++) {
        const s = 2 * grp + slot;
        const b = 2 * lr + slot;
        const pos = (indices[r * idxRow + (s >> 2)]! >> (2 * (s & 3))) & 3;
        const q = code(codes, r * codeRow, s, bits);
        out[base + b] |= pos << (2 * f);
        if (bits === 8) out[base + 16 + 16 * f + b] = q;
        else out[base + 16 + 16 * (f >> 1) + b] |= q << (4 * (f & 1));
      }
    }
  }
  return out;
}

/** Bytes per octet and 16 columns of the NMQ4 stream: positions (16), then codes as nibbles (32) or, 8-bit, bytes (64). */
const nmq4Unit = (bits: number): number => (bits === 8 ? 80 : 48);

/** Bytes per octet and group of the NMQ4 stream (`packNMQ4Stream`): 64 of statistics, then `nmq4Unit` per 16 columns. */
const nmq4GroupBytes = (gs: number, bits: number): number => 64 + (gs / 16) * nmq4Unit(bits);

/** Bytes per octet and 16-column chunk of the NMQ4C stream: V/2 position vectors, then V/2 code vectors of nibbles or, 8-bit, V of bytes. */
const nmq4cChunkBytes = (v: number, bits: number): number => (bits === 8 ? 24 : 16) * v;

/** Bytes per octet and group of the NMQ4C stream: 64 of statistics, then `nmq4cChunkBytes` per 16-column chunk. */
const nmq4cGroupBytes = (gs: number, v: number, bits: number): number => 64 + (gs / 16) * nmq4cChunkBytes(v, bits);

/** Bytes of an octet stream (`octetStream`) of `rows` × `cols` in groups of `gs` with `groupBytes` per octet and group. */
const octetStreamBytes = (rows: number, cols: number, gs: number, groupBytes: number): number => Math.ceil(rows / 8) * (cols / gs) * groupBytes;

/**
 * Index / code vectors per 16-column chunk and octet of the chunked N:M +
 * 4-bit GEMV layout (`packNMQ4CStream`): 8 rows × 2 slots per vector, so
 * 8·N/M; the layout takes 2 or 4 (1:4, 2:8, 4:16; 1:2, 4:8, 8:16).
 */
export function nmq4ChunkVectors(w: PackedMatrix): number {
  return w.kind === 'nm-quant' ? (8 * w.n) / w.m : 0;
}

/**
 * Whether an N:M + 2/3/4/8-bit weight gets the chunked GEMV layout
 * (`packNMQ4CStream`, codes as nibbles or bytes): M dividing 16 (a 16-column chunk
 * holds whole groups), 2 or 4 vectors per chunk, groups of 32, 64 or 128k — every such
 * pattern but 2:4, which has its own (`packNMQ4Stream`).
 */
export function isNMQ4Chunked(w: PackedMatrix): boolean {
  const v = nmq4ChunkVectors(w);
  return (
    w.kind === 'nm-quant' && 16 % w.m === 0 && !(w.n === 2 && w.m === 4) && (w.bits <= 4 || w.bits === 8) && nmq4Group(w.groupSize) && (v === 2 || v === 4)
  );
}

/**
 * N:M + 4-bit weights with M dividing 16 as the chunked GEMV stream
 * (`gemvNMQ4` with D_PATH = NMQ4C in assembly/lib/packed.ts): the NMQ4
 * stream's blocks → k-segments → octets → groups, with per group the same 64
 * bytes of statistics, then per 128-column step 8 chunks of 16 columns, each
 * V·16 bytes (V = 8·N/M vectors of 8 rows × 2 slots): V/2 position vectors,
 * then V/2 code vectors. Byte lane b is row 8o + (b >> 1); vector u holds the
 * row's kept slots 2u + (b & 1) of the chunk (in column order), vector 2i in
 * the low nibbles of the i-th position / code vector, 2i + 1 in the high ones.
 * 8-bit codes take V code vectors of bytes instead (24·V bytes per chunk).
 * A position is the slot's column within the chunk (< 16), so one swizzle of
 * the chunk's 16 int8 activations gathers a vector's 16 slots.
 */
function packNMQ4CStream(
  codes: Uint8Array,
  indices: Uint8Array,
  stats: Float32Array,
  rows: number,
  cols: number,
  n: number,
  m: number,
  bits: number,
  gs: number,
  segCols: number,
): Uint8Array {
  const V = (8 * n) / m;
  const { out, groupOffset } = octetStream(stats, rows, cols, gs, segCols, nmq4cGroupBytes(gs, V, bits));
  const chunkBytes = nmq4cChunkBytes(V, bits);
  const L = (cols / m) * n;
  const ib = indexBits(m);
  const idxRow = rowBytes(L, ib);
  const codeRow = rowBytes(L, bits);
  const spc = 2 * V; // kept slots per row and chunk
  for (let r = 0; r < rows; r++) {
    const o = r >> 3;
    const lr = r & 7;
    for (let s = 0; s < L; s++) {
      const col = Math.floor(s / n) * m + code(indices, r * idxRow, s, ib);
      const t = Math.floor(col / gs);
      const within = col - t * gs;
      const chunk = within >> 4; // 16-column chunk within the group
      const sl = s % spc; // slot within the chunk (chunks hold whole N:M groups)
      const u = sl >> 1;
      const b = 2 * lr + (sl & 1);
      const chunkBase = groupOffset(o, t) + 64 + chunk * chunkBytes;
      const shift = 4 * (u & 1);
      out[chunkBase + (u >> 1) * 16 + b] |= (col & 15) << shift;
      if (bits === 8) out[chunkBase + 8 * V + u * 16 + b] = code(codes, r * codeRow, s, bits);
      else out[chunkBase + 8 * V + (u >> 1) * 16 + b] |= code(codes, r * codeRow, s, bits) << shift;
    }
  }
  return out;
}
