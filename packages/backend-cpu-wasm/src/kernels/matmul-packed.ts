/**
 * The compressed matmul kernels (`matmulQuant`, `matmulNM`, `matmulNMQuant`,
 * `matmulSpqr`) on wasm SIMD: out [m, n] = a [m, k] · decode(w)ᵀ.
 *
 * The weight is uploaded once (cached by object identity, see
 * runtime/packed-weights.ts); each call writes a descriptor of u32 words into
 * scratch memory and runs one pool job. The path is chosen here:
 * - GEMV (m = 1), `int8Activations` on: 2/3/4-bit groups (g % 32 = 0, or 16)
 *   and SpQR bases of 2–4 bits (g = 16 or g % 32 = 0), and 8-bit (g % 16 = 0)
 *   use the integer Q·Q8 kernels; 2:4 + 2/3/4/8-bit (g = 32, 64 or 128k) the
 *   gathered integer kernel, N:M + 2/3/4/8-bit with M dividing 16 (1:4, 4:8,
 *   2:8, 8:16; same groups) the chunked integer kernel. 2:4 f32 (k % 8 = 0)
 *   uses the rows-in-lanes f32 kernel and any other N:M with M dividing 128
 *   gathers its activations by kept-slot column bytes (§4 values decoded per
 *   row; 4:8 f32 with two swizzles per 4 kept slots), whatever the option.
 * - Small batches: a GEMV path runs once per activation row, up to m = 32 for
 *   the int8 4-bit kernels, m = 16 for Q8 and 2:4 + 8-bit, m = 5 for 2:4 f32
 *   and §4 values, m = 3 for other f32 N:M (`rowGemvMaxM`).
 * - GEMM (m ≥ 6; f32 N:M but 2:4, m ≥ 4) of N:M weights with M dividing 128 (f32, or §4 values decoded
 *   to f32 per block): the sparse kernels on 16-row activation panels — N/M of
 *   the multiply-adds (2:4: §3 index bytes; others: column bytes).
 * - everything else (odd group sizes, N:M with M not dividing 128, other
 *   GEMMs) decodes rows exactly to f32 and runs the dense f32 tiles.
 * See assembly/lib/packed.ts for the kernels themselves.
 */
import {
  SparqError,
  Tensor,
  validatePacked,
  type KernelImpl,
  type KernelName,
  type PackedMatrix,
} from '@sparq/tensor';
import { requireRuntime, type CpuWasmContext } from '../context';
import { JOB } from '../runtime/control-block';
import { hasKeptPos, isNM24Fast, isNMQ4Fast, isNMQ4Chunked, isQ4Quad, isSpqrQ4, NMQ4_BLOCK_OCTETS, PACKED_KIND, Q4_BLOCK_QUADS, type PackedWeight } from '../runtime/packed-weights';
import { stripBytes } from '../runtime/wasm-module';

/** Largest operand the 4 GiB wasm32 memory can hold next to the others. */
const MAX_OPERAND_BYTES = 2 ** 31;
/** Rows of W a GEMM thread decodes at once (must match RB in assembly/lib/packed.ts). */
const RB = 16;
/** Rows of W per sub-block of the sparse GEMMs, whose tiles stay in scratch (must match SB in assembly/lib/packed.ts). */
const SB = 128;

/**
 * Batch from which 2:4 GEMMs use the sparse kernel instead of the GEMV per row. Up to batch 8 its tiles run on the
 * low 8 rows of a 16-row panel (tileSp24Half). Measured at 4096², 2 threads, relaxed build, two runs, × dense f32
 * (docs/benchmarks/cpu-log.md): GEMV per row / sparse GEMM 1.08, 0.90 / 0.71, 0.81 at batch 4; 1.19, 1.11 / 1.04, 1.14
 * at 5; 1.19, 1.11 / 1.33, 1.34 at 6; 1.14, 1.19 / 1.40, 1.64 at 7.
 */
const SP24_MIN_M = 6;
/**
 * Batch from which f32 N:M weights other than 2:4's own layouts (4:8, 1:4, …) use the sparse GEMM instead of the
 * gather GEMV per row. Measured at 4096², 2 threads, relaxed build, two runs (docs/benchmarks/cpu-log.md, 4:8 section):
 * at batch 3 the GEMV is faster (4:8 0.93–1.06× dense against 0.66–0.80×), at 4 they are even for 4:8 and the GEMM
 * wins for 1:4 (1.09–1.15× against 0.81–0.84×), and from 5 the GEMM wins for both.
 */
const SPNM_F32_MIN_M = 4;

/**
 * Largest batch that runs the GEMV path `path` once per activation row (over each claimed chunk of weight rows,
 * so the chunk is read from memory once and from cache for the other rows) instead of a GEMM. Measured
 * (4096², 2 threads, relaxed build; docs/benchmarks/cpu-log.md): the int8 4-bit GEMVs (INT2–4, SpQR, N:M + INT4)
 * beat the decode-then-tiles and sparse GEMMs up to batch 32 at least (INT4 1.8× against 1.0× dense f32 at 32);
 * Q8 up to 16; the f32 ones only below the sparse GEMMs' batch of 6 (2:4: SP24_MIN_M) or 4 (other N:M: SPNM_F32_MIN_M).
 */
function rowGemvMaxM(path: PackedPath, w: PackedMatrix, int8Prefill: boolean): number {
  // `int8Prefill`: the int8 4-bit GEMV per row beat the exact-decode GEMM at every batch measured (1.6–1.8× at
  // 128 and 512); the N:M + INT4 sparse GEMMs stay faster from batch 33.
  if (path === 'q4') return int8Prefill ? Number.POSITIVE_INFINITY : 32;
  // N:M + 8-bit (byte codes, no relaxed dot): 2:4 ~2× the sparse GEMM at 8, even at 16, 0.84–0.90× at 32.
  if ((path === 'nmq4' || path === 'nmq4c') && w.kind === 'nm-quant' && w.bits === 8) return 16;
  if (path === 'nmq4' || path === 'nmq4c') return 32;
  // Q8 (4 rows per activation load): 1.13–1.42× the decode GEMM at batches 8–16, even at 24–32 (relaxed build).
  if (path === 'q8') return 16;
  if (path === 'nmg' && w.kind === 'nm') return SPNM_F32_MIN_M - 1;
  return path === 'generic' ? 0 : SP24_MIN_M - 1;
}

/** Kernel path codes of the descriptor (D_PATH). */
export const PACKED_PATH = { generic: 0, q4: 1, q8: 2, nm24: 3, nmq4: 4, sp24: 5, nmg: 6, spnm: 7, nmq4c: 8 } as const;
/** A kernel path. */
export type PackedPath = keyof typeof PACKED_PATH;

// Descriptor words (assembly/lib/packed.ts D_*).
const D = {
  KIND: 0, M: 1, K: 2, N: 3, A: 4, OUT: 5, BITS: 6, GS: 7, NN: 8, MM: 9, CODES: 10, CODE_ROW: 11, SCALE: 12, ZERO: 13,
  IDX: 14, IDX_ROW: 15, IDX_BITS: 16, VALUES: 17, ORP: 18, OCOL: 19, OVAL: 20, SCRATCH: 21, SCRATCH_STRIDE: 22, PATH: 23,
  XQ: 24, XS: 25, XB: 26, XT: 27, OBASE: 28, RCODES: 29, RIDX: 30, PANEL: 31, SEG: 32, KPOS: 33, XH: 34, ROWS: 35, DSTRIDE: 36,
} as const;
const DESC_BYTES = 448;

const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** Largest block in `sizes` dividing g (the int8 activation block), or 0. */
function blockFor(g: number, sizes: readonly number[]): number {
  for (const b of sizes) if (g % b === 0) return b;
  return 0;
}

/**
 * The path and activation block (columns) a call with `m` rows would take
 * (a GEMV path for small batches, run once per row: `rowGemvMaxM`; with
 * `int8Prefill`, for every batch of 2–4-bit §2 and SpQR weights). Exported
 * for tests and the benchmark, which report it.
 */
export function packedPath(w: PackedMatrix, m: number, int8Activations: boolean, int8Prefill = false): { path: PackedPath; xb: number } {
  // Small batches (any batch with `int8Prefill` on the 4-bit GEMV) take the GEMV path, once per row (runPacked).
  if (m > 1) {
    const one = packedPath(w, 1, int8Activations);
    if (m <= rowGemvMaxM(one.path, w, int8Prefill)) return one;
  }
  if (m >= SP24_MIN_M && (w.kind === 'nm' || w.kind === 'nm-quant') && w.n === 2 && w.m === 4 && w.cols % 8 === 0) {
    return { path: 'sp24', xb: 0 };
  }
  // Other N:M patterns (M dividing 128): the column-byte kernels.
  if (hasKeptPos(w) && m >= (w.kind === 'nm' ? SPNM_F32_MIN_M : SP24_MIN_M)) return { path: 'spnm', xb: 0 };
  if (m !== 1) return { path: 'generic', xb: 0 };
  if (isNM24Fast(w)) return { path: 'nm24', xb: 0 };
  if (!int8Activations) return { path: hasKeptPos(w) ? 'nmg' : 'generic', xb: 0 };
  // 2- and 3-bit codes are held as nibbles (isQ4Quad), so the 4-bit kernel runs them too, and SpQR bases of 2–4
  // bits (non-integer zero-points; outliers added per row); groups of 16 take two per 32-column activation block
  // (q4Segment16).
  if ((w.kind === 'quant' && isQ4Quad(w)) || isSpqrQ4(w)) return { path: 'q4', xb: w.groupSize === 16 ? 32 : blockFor(w.groupSize, [128, 64, 32]) };
  if (w.kind === 'quant' && w.bits === 8 && w.groupSize % 16 === 0) return { path: 'q8', xb: blockFor(w.groupSize, [128, 64, 32, 16]) };
  // One activation block per kernel step: 128 columns, or the whole group of 32 / 64.
  if (w.kind === 'nm-quant' && isNMQ4Fast(w)) return { path: 'nmq4', xb: Math.min(128, w.groupSize) };
  if (w.kind === 'nm-quant' && isNMQ4Chunked(w)) return { path: 'nmq4c', xb: Math.min(128, w.groupSize) };
  if (hasKeptPos(w)) return { path: 'nmg', xb: 0 };
  return { path: 'generic', xb: 0 };
}

function validate(kernel: KernelName, a: Tensor, w: PackedMatrix, kind: PackedMatrix['kind']): true | string {
  if (!w || w.kind !== kind) return `${kernel} needs a '${kind}' packed weight, found ${w ? `'${(w as PackedMatrix).kind}'` : 'none'}`;
  if (a.dtype !== 'f32') return `needs f32 activations, found ${a.dtype}`;
  if (a.rank !== 2) return `needs 2-D activations, found a [${a.shape}]`;
  try {
    validatePacked(w);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  const [m, k] = a.shape as [number, number];
  if (k !== w.cols) return `a is [${m}, ${k}] but the weight has ${w.cols} columns`;
  if (m * k * 4 > MAX_OPERAND_BYTES || w.rows * k * 4 > MAX_OPERAND_BYTES || m * w.rows * 4 > MAX_OPERAND_BYTES) {
    return `operands larger than 2 GiB do not fit the 4 GiB wasm32 memory (m=${m}, k=${k}, n=${w.rows})`;
  }
  return true;
}

function runPacked(kernel: KernelName, a: Tensor<'f32'>, w: PackedMatrix, ctx: CpuWasmContext): Tensor<'f32'> {
  const ok = validate(kernel, a, w, w?.kind);
  if (ok !== true) throw new SparqError('E_KERNEL_UNSUPPORTED', `cpu-wasm ${kernel}: ${ok}`);
  const [m, k] = a.shape as [number, number];
  const n = w.rows;
  if (m === 0 || n === 0 || k === 0) return Tensor.zeros('f32', [m, n]);
  const { memories, pool } = requireRuntime(ctx);
  // The weight's memory: activations, output and scratch go there too.
  const { slot, pw } = memories.packed(w);
  const { heap, ex } = slot;
  const { path, xb } = packedPath(w, m, ctx.int8Activations, ctx.int8Prefill);
  const nth = m * k * n < ctx.minParallelWork ? 1 : Math.min(pool.threads, Math.ceil(n / 4));

  // Scratch: activations, output, per-thread decode rows, descriptor + int8 activations.
  const aPtr = heap.scratchPtr(0, m * k * 4);
  const outPtr = heap.scratchPtr(1, m * n * 4);
  // Per-thread scratch: RB rows of k (generic GEMM), one row (generic GEMV); sparse 2:4 GEMM: a 64-byte tile slot
  // per row of a sub-block and 16-row panel, a spare slot, RB rows of k/4 group bytes (the split §3 index), and for
  // §4 RB + 4 rows of k/2 kept values.
  // Q4 GEMV: 32 bytes of parked accumulators per quad of a block; NMQ4 / NMQ4C GEMV: 32 per octet of a block;
  // 2:4 f32 GEMV: 64 bytes its scheduling stores write (gemvNM24); 4:8 f32 GEMV: 32 (nm48.ts);
  // any-N:M: the tile slots plus RB rows of decoded kept values (SPNM of §4), one such row (NMG of §4).
  const tileBytes = (SB * Math.ceil(m / 16) + 1) * 64;
  const stride =
    path === 'generic'
      ? align64((m === 1 ? 1 : RB) * k * 4 + 64)
      : path === 'sp24'
        ? align64(tileBytes + align64(RB * (k / 4)) + (w.kind === 'nm-quant' ? (RB + 4) * (k / 2) * 4 : 0))
        : path === 'q4'
          ? Q4_BLOCK_QUADS * 32
          : path === 'nm24'
            ? 64
            : path === 'nmq4' || path === 'nmq4c'
              ? NMQ4_BLOCK_OCTETS * 32
              : path === 'spnm'
                ? align64(tileBytes + (w.kind === 'nm-quant' ? RB * keptPerRow(w) * 4 : 0))
                : path === 'nmg' && w.kind === 'nm-quant'
                  ? align64(keptPerRow(w) * 4 + 64)
                  : path === 'nmg' && w.kind === 'nm' && w.n === 4 && w.m === 8
                    ? 64
                    : 0;
  const rowScratch = stride > 0 ? heap.scratchPtr(2, stride * nth) : 0;
  // A GEMV path with m > 1 runs once per activation row, each row with its own descriptor and int8 activations.
  const rowGemv = m > 1 && path !== 'generic' && path !== 'sp24' && path !== 'spnm';
  const descs = rowGemv ? m : 1;
  // int8 paths: i16 activations (2k bytes) or, for nmq4, swizzle tables (20 bytes per 8 columns), for nmq4c plain i8 (k bytes).
  const xqBytes = align64(path === 'nm24' || path === 'nmg' || path === 'spnm' ? 0 : path === 'nmq4' ? (k / 8) * 20 : path === 'nmq4c' ? k : k * 2);
  const xsBytes = align64(Math.ceil(k / 16) * 4);
  // Per-block scales and per-group sums: int8 paths have blocks and groups of ≥ 16 columns.
  const xtBytes = xsBytes;
  // SpQR in the Q4 layout: the quantized activations as f32 (x̂ = sx·q), to take the base out at the outliers.
  const xhBytes = path === 'q4' && w.kind === 'spqr' ? align64(k * 4) : 0;
  // Sparse GEMMs: a in 16-row panels; the decode GEMM: a's 4-row strips packed for the register tiles (packStrips).
  const strips = path === 'generic' ? stripBytes(m, k) : 0;
  const panelBytes = path === 'sp24' || path === 'spnm' ? Math.ceil(m / 16) * 16 * k * 4 : strips;
  const descBytes = DESC_BYTES + xqBytes + xsBytes + xtBytes + xhBytes;
  const descPtr = heap.scratchPtr(3, descs * descBytes + panelBytes);

  // Views after every allocation: the memory may have grown.
  heap.f32.set(a.data, aPtr >>> 2);
  for (let r = 0; r < descs; r++) {
    const dp = descPtr + r * descBytes;
    const xq = dp + DESC_BYTES;
    const xs = xq + xqBytes;
    const xt = xs + xsBytes;
    const xh = xt + xtBytes;
    const d = new Uint32Array(heap.memory.buffer, dp, DESC_BYTES / 4);
    d.fill(0);
    heap.u8.set(PACKED_CONSTANTS, dp + D_CONST_OFFSET);
    d[D.KIND] = pw.kind;
    d[D.M] = rowGemv ? 1 : m;
    d[D.K] = k;
    d[D.N] = n;
    d[D.A] = aPtr + r * k * 4;
    d[D.OUT] = outPtr + r * n * 4;
    fillWeight(d, pw);
    d[D.SCRATCH] = rowScratch;
    d[D.SCRATCH_STRIDE] = stride;
    d[D.PATH] = PACKED_PATH[path];
    d[D.XQ] = xq;
    d[D.XS] = xs;
    d[D.XB] = xb;
    d[D.XT] = xt;
    d[D.XH] = xhBytes ? xh : 0;
    // Panels (sparse GEMMs) or strips (decode GEMM; one descriptor) follow the descriptors.
    d[D.PANEL] = descPtr + descs * descBytes;
    // The first descriptor says how many row descriptors there are and how far apart.
    if (r === 0) {
      d[D.ROWS] = descs;
      d[D.DSTRIDE] = descBytes;
    }
    if (path === 'q4' || path === 'q8' || path === 'nmq4' || path === 'nmq4c') ex.prepareActInt8(dp);
    if (path === 'sp24' || path === 'spnm') ex.preparePanels(dp);
    if (strips > 0) ex.packStrips(aPtr, d[D.PANEL]!, m, k);
  }
  pool.run(JOB.PACKED, [descPtr], nth, slot.id);
  const start = outPtr >>> 2;
  return new Tensor('f32', [m, n], heap.f32.slice(start, start + m * n));
}

/**
 * The kernels' v128 constants, written into every descriptor at byte
 * D_CONST_OFFSET (D_CONST and the C_* offsets in assembly/lib/descriptor.ts): the
 * kernels load them once per call, because V8 11.3 re-creates v128 constants
 * inside loops. Bytes 0–3 repeated; byte splats of 0x0c, 1, 2, 0x0f; i16 splats
 * of 0x000f, 0x00f0, 0x0f00, 1; a byte splat of 0x80; the 4:8 GEMV's slot-byte
 * table (C_NM48, assembly/lib/nm48.ts; entry i: 4·(i & 3) | 0x80 when i & 4, the
 * low-table byte of column i & 7 of a group).
 */
const PACKED_CONSTANTS = new Uint8Array(176);
{
  const b = (v: number) => new Array<number>(16).fill(v);
  const h = (v: number) => new Uint8Array(new Uint16Array(8).fill(v).buffer);
  PACKED_CONSTANTS.set([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, ...b(0x0c), ...b(1), ...b(2), ...b(0x0f)]);
  PACKED_CONSTANTS.set(h(0x000f), 80);
  PACKED_CONSTANTS.set(h(0x00f0), 96);
  PACKED_CONSTANTS.set(h(0x0f00), 112);
  PACKED_CONSTANTS.set(h(1), 128);
  const lut = Array.from({ length: 16 }, (_, i) => (4 * (i & 3)) | (i & 4 ? 0x80 : 0));
  PACKED_CONSTANTS.set([...b(0x80), ...lut], 144);
}
const D_CONST_OFFSET = 256;

function fillWeight(d: Uint32Array, pw: PackedWeight): void {
  d[D.BITS] = pw.bits;
  d[D.GS] = pw.groupSize;
  d[D.NN] = pw.n;
  d[D.MM] = pw.m;
  d[D.CODES] = pw.codes;
  d[D.CODE_ROW] = pw.codeRow;
  d[D.SCALE] = pw.stats;
  // (scale, zero) pairs: the kernels step 8 bytes per group; the Q4 GEMV layout groups a quad's 4 scales, then its 4 zero-points.
  d[D.ZERO] = pw.stats ? pw.stats + ((pw.kind === PACKED_KIND.quant || pw.kind === PACKED_KIND.spqr) && pw.segCols > 0 ? 16 : 4) : 0;
  d[D.IDX] = pw.idx;
  d[D.IDX_ROW] = pw.idxRow;
  d[D.IDX_BITS] = pw.idxBits;
  d[D.VALUES] = pw.values;
  d[D.ORP] = pw.orp;
  d[D.OCOL] = pw.ocol;
  d[D.OVAL] = pw.oval;
  d[D.OBASE] = pw.obase;
  d[D.RCODES] = pw.rcodes;
  d[D.RIDX] = pw.ridx;
  d[D.SEG] = pw.segCols;
  d[D.KPOS] = pw.kpos;
}

/** Kept slots per row of an N:M weight (K·N/M). */
const keptPerRow = (w: PackedMatrix): number => (w.kind === 'nm' || w.kind === 'nm-quant' ? (w.cols / w.m) * w.n : 0);

/** The cpu-wasm `matmulQuant` (any bits/group size; Q4/Q8 integer GEMV, also per row for small batches). */
export const matmulQuant: KernelImpl<'matmulQuant', CpuWasmContext> = {
  name: 'matmulQuant',
  supports: ({ a, w }) => validate('matmulQuant', a, w, 'quant'),
  run: ({ a, w }, _attrs, ctx) => runPacked('matmulQuant', a, w, ctx),
};

/** The cpu-wasm `matmulNM` (2:4 swizzle-gather GEMV; other N:M column-byte gather GEMV; sparse GEMMs; exact decode for M not dividing 128). */
export const matmulNM: KernelImpl<'matmulNM', CpuWasmContext> = {
  name: 'matmulNM',
  supports: ({ a, w }) => validate('matmulNM', a, w, 'nm'),
  run: ({ a, w }, _attrs, ctx) => runPacked('matmulNM', a, w, ctx),
};

/** The cpu-wasm `matmulNMQuant` (2:4 and M-dividing-16 + 4-bit integer GEMVs; decoded-value gather GEMV and sparse GEMM for other N:M; exact decode otherwise). */
export const matmulNMQuant: KernelImpl<'matmulNMQuant', CpuWasmContext> = {
  name: 'matmulNMQuant',
  supports: ({ a, w }) => validate('matmulNMQuant', a, w, 'nm-quant'),
  run: ({ a, w }, _attrs, ctx) => runPacked('matmulNMQuant', a, w, ctx),
};

/**
 * The cpu-wasm `matmulSpqr`: GEMV of 2–4-bit bases with groups of 16 or 32k columns on the int8-activation
 * 4-bit kernel (with `int8Activations`, the default), the outliers added per row as Σ (value·x − base·x̂),
 * so they multiply the exact activations;
 * otherwise, and for GEMMs, exact decode of base + outliers, then the dense f32 tiles.
 */
export const matmulSpqr: KernelImpl<'matmulSpqr', CpuWasmContext> = {
  name: 'matmulSpqr',
  supports: ({ a, w }) => validate('matmulSpqr', a, w, 'spqr'),
  run: ({ a, w }, _attrs, ctx) => runPacked('matmulSpqr', a, w, ctx),
};
