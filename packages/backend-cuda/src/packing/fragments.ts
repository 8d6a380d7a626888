/**
 * The fragment-packed weight layouts read by the tensor-core kernels
 * (native/kernels/common.cuh), and an exact host-side emulation of the
 * kernels' reads.
 *
 * A weight `[nPad, kPad]` (rows = output features) is cut into 16×16 tiles
 * `(rt, kt)`, stored tile by tile with `kt` fastest; inside a tile, lane
 * `L = 4g + t` of the warp holds the 8 values of its `mma.m16n8k16` A fragment
 * (PTX ISA, "Matrix fragments for mma.m16n8k16", `.f16` A operand):
 * register 0 = (row g, cols 2t, 2t+1), 1 = (row g+8, cols 2t, 2t+1),
 * 2 = (row g, cols 2t+8, 2t+9), 3 = (row g+8, cols 2t+8, 2t+9).
 * - f16: 4 u32 registers per lane (a 16-byte load), element h of register r
 *   at half `8L + 2r + h` of the tile.
 * - INT4: one u32 per lane; element h of register r is nibble `r + 4h`, so the
 *   kernel's `(word >> 4r) & 0x000f000f` yields one f16x2 pair.
 * For 2:4 weights the same layouts are applied to the compressed `[rows, k/2]`
 * matrix of kept values (one 16×16 compressed tile = one `mma.sp.m16n8k32` A
 * fragment).
 */
import { SparqError } from '@sparq/tensor';

/** Rounds `x` up to a multiple of `to`. */
export function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/** Register `r` (0–3) and element `h` (0–1) of lane `(g, t)` → (row, col) inside a 16×16 tile. */
export function fragmentElement(lane: number, reg: number, h: number): { row: number; col: number } {
  const g = lane >> 2;
  const t = lane & 3;
  return { row: g + 8 * (reg & 1), col: 2 * t + h + 8 * (reg >> 1) };
}

/** Offset (in halves) of element `(r, c)` of a `[nPad, kPad]` matrix in the f16 fragment layout (same as `fragment_offset` in decode_packed.cu). */
export function fragmentOffset(r: number, c: number, kPad: number): number {
  const rt = r >> 4;
  const kt = c >> 4;
  const rr = r & 15;
  const cc = c & 15;
  const lane = (rr & 7) * 4 + ((cc & 7) >> 1);
  const reg = (rr >> 3) + 2 * (cc >> 3);
  return ((rt * (kPad >> 4) + kt) * 32 + lane) * 8 + reg * 2 + (cc & 1);
}

function checkPadded(rows: number, cols: number, nPad: number, kPad: number): void {
  if (nPad % 16 !== 0 || kPad % 16 !== 0 || nPad < rows || kPad < cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `fragment packing: padded shape [${nPad}, ${kPad}] must be multiples of 16 covering [${rows}, ${cols}]`, {
      details: { expected: `multiples of 16 ≥ [${rows}, ${cols}]`, found: [nPad, kPad] },
    });
  }
}

/**
 * Packs f16 bit patterns `[rows, cols]` (row-major) into the f16 fragment
 * layout of `[nPad, kPad]`, zero-padded.
 */
export function packF16Fragments(bits: Uint16Array, rows: number, cols: number, nPad: number, kPad: number): Uint16Array {
  checkPadded(rows, cols, nPad, kPad);
  const out = new Uint16Array(nPad * kPad);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[fragmentOffset(r, c, kPad)] = bits[r * cols + c]!;
  }
  return out;
}

/**
 * Packs 4-bit codes `[rows, cols]` (one code per byte, row-major) into the
 * INT4 fragment layout of `[nPad, kPad]`; padding codes are 0.
 */
export function packInt4Fragments(codes: Uint8Array, rows: number, cols: number, nPad: number, kPad: number): Uint32Array {
  checkPadded(rows, cols, nPad, kPad);
  const out = new Uint32Array((nPad * kPad) / 8);
  const KT = kPad / 16;
  for (let r = 0; r < rows; r++) {
    const rt = r >> 4;
    const rr = r & 15;
    for (let c = 0; c < cols; c++) {
      const cc = c & 15;
      const lane = (rr & 7) * 4 + ((cc & 7) >> 1);
      const reg = (rr >> 3) + 2 * (cc >> 3);
      const nibble = reg + 4 * (cc & 1);
      const word = (rt * KT + (c >> 4)) * 32 + lane;
      out[word] = (out[word]! | ((codes[r * cols + c]! & 15) << (4 * nibble))) >>> 0;
    }
  }
  return out;
}

/**
 * What the kernels read from an f16 fragment buffer, emulated lane by lane:
 * for every tile and lane, the 16-byte load at `(tile·32 + lane)·8` split into
 * registers as the mma A fragment defines. Returns the dense `[nPad, kPad]`
 * bit patterns the warp would multiply.
 */
export function emulateF16FragmentReads(packed: Uint16Array, nPad: number, kPad: number): Uint16Array {
  const out = new Uint16Array(nPad * kPad);
  const KT = kPad / 16;
  for (let rt = 0; rt < nPad / 16; rt++) {
    for (let kt = 0; kt < KT; kt++) {
      for (let lane = 0; lane < 32; lane++) {
        const base = ((rt * KT + kt) * 32 + lane) * 8;
        for (let reg = 0; reg < 4; reg++) {
          for (let h = 0; h < 2; h++) {
            const { row, col } = fragmentElement(lane, reg, h);
            out[(rt * 16 + row) * kPad + kt * 16 + col] = packed[base + 2 * reg + h]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * What the INT4 kernels read, emulated: lane `L` of tile `(rt, kt)` loads word
 * `(rt·KT + kt)·32 + L` and `dequant_int4_pair(word, reg, …)` takes nibbles
 * `reg` (element 0) and `reg + 4` (element 1). Returns the dense codes `[nPad, kPad]`.
 */
export function emulateInt4FragmentReads(packed: Uint32Array, nPad: number, kPad: number): Uint8Array {
  const out = new Uint8Array(nPad * kPad);
  const KT = kPad / 16;
  for (let rt = 0; rt < nPad / 16; rt++) {
    for (let kt = 0; kt < KT; kt++) {
      for (let lane = 0; lane < 32; lane++) {
        const word = packed[(rt * KT + kt) * 32 + lane]!;
        for (let reg = 0; reg < 4; reg++) {
          // (word >> 4·reg) & 0x000f000f: low half = nibble reg, high half = nibble reg + 4.
          const pair = (word >>> (4 * reg)) & 0x000f000f;
          const { row: r0, col: c0 } = fragmentElement(lane, reg, 0);
          const { row: r1, col: c1 } = fragmentElement(lane, reg, 1);
          out[(rt * 16 + r0) * kPad + kt * 16 + c0] = pair & 0xf;
          out[(rt * 16 + r1) * kPad + kt * 16 + c1] = pair >>> 16;
        }
      }
    }
  }
  return out;
}
