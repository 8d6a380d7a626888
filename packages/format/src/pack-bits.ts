/**
 * Bit packing of small unsigned codes (docs/format.md §1): each row is packed
 * independently into `ceil(count·b/8)` bytes, element `i` at stream bits
 * `[i·b, i·b + b)`, stream bit `k` = bit `k mod 8` of byte `floor(k/8)`
 * (LSB-first). Quantized codes use b ∈ {2, 3, 4, 8}; N:M position indices use
 * `ceil(log2 M)` bits, which is 1 for M = 2, so the packer accepts any
 * 1 ≤ b ≤ 8 — the rule is the same for every width.
 */
import { SparqError } from '@sparq/tensor';

/** Bytes one packed row of `count` codes of `bits` bits occupies (§1). */
export function packedRowBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

/** Throws `E_ARG` unless `bits` is an integer in [1, 8]. */
export function assertPackBits(bits: number, what = 'bits'): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) {
    throw new SparqError('E_ARG', `${what}: code width must be an integer from 1 to 8, found ${bits}`, {
      details: { expected: '1..8 (quantized codes: 2, 3, 4 or 8)', found: bits },
    });
  }
}

function assertDims(rows: number, count: number, what: string): void {
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: invalid shape [${rows}, ${count}]`, {
      details: { tensor: what, found: [rows, count] },
    });
  }
}

/**
 * Packs `rows × count` unpacked codes (row-major, one code per byte) into
 * rows of `packedRowBytes(count, bits)` bytes. Throws `E_ARG` for a code that
 * does not fit in `bits` bits (naming its row and column) and
 * `E_SHAPE_MISMATCH` when `codes` has the wrong length.
 * @example
 * packBits(Uint8Array.from([1, 2, 3]), 1, 3, 4); // Uint8Array [0x21, 0x03]
 */
export function packBits(codes: ArrayLike<number>, rows: number, count: number, bits: number, what = 'codes'): Uint8Array {
  assertPackBits(bits, what);
  assertDims(rows, count, what);
  if (codes.length !== rows * count) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: expected ${rows}×${count} = ${rows * count} codes, found ${codes.length}`, {
      details: { tensor: what, expected: rows * count, found: codes.length },
    });
  }
  const rowBytes = packedRowBytes(count, bits);
  const out = new Uint8Array(rows * rowBytes);
  const max = (1 << bits) - 1;
  for (let r = 0; r < rows; r++) {
    const src = r * count;
    let o = r * rowBytes;
    // A bit accumulator: codes enter at the top of the filled bits, full bytes
    // leave from the bottom, which is exactly LSB-first stream order.
    let acc = 0;
    let filled = 0;
    for (let i = 0; i < count; i++) {
      const q = codes[src + i]!;
      if (!(q >= 0 && q <= max && Number.isInteger(q))) {
        throw new SparqError('E_ARG', `${what}: code ${q} at row ${r}, column ${i} does not fit in ${bits} bits`, {
          details: { tensor: what, expected: `integer in [0, ${max}]`, found: q },
        });
      }
      acc |= q << filled;
      filled += bits;
      while (filled >= 8) {
        out[o++] = acc & 0xff;
        acc >>>= 8;
        filled -= 8;
      }
    }
    if (filled > 0) out[o] = acc & 0xff;
  }
  return out;
}

/**
 * Unpacks rows packed by {@link packBits} back to one code per byte
 * (`rows × count`). Throws `E_SHAPE_MISMATCH` when `packed` does not hold
 * exactly `rows · packedRowBytes(count, bits)` bytes.
 */
export function unpackBits(packed: Uint8Array, rows: number, count: number, bits: number, what = 'codes', out = new Uint8Array(rows * count)): Uint8Array {
  assertPackBits(bits, what);
  assertDims(rows, count, what);
  const rowBytes = packedRowBytes(count, bits);
  if (packed.length !== rows * rowBytes) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: ${rows} rows of ${count} ${bits}-bit codes need ${rows * rowBytes} bytes, found ${packed.length}`, {
      details: { tensor: what, expected: rows * rowBytes, found: packed.length },
    });
  }
  const mask = (1 << bits) - 1;
  if (bits === 8) {
    out.set(packed);
    return out;
  }
  if (bits === 4 || bits === 2 || bits === 1) {
    // Codes never straddle bytes for these widths: split each byte directly.
    const per = 8 / bits;
    for (let r = 0; r < rows; r++) {
      let p = r * rowBytes;
      const dst = r * count;
      const full = count - (count % per);
      let i = 0;
      while (i < full) {
        let b = packed[p++]!;
        for (let j = 0; j < per; j++) {
          out[dst + i++] = b & mask;
          b >>>= bits;
        }
      }
      let b = i < count ? packed[p]! : 0;
      while (i < count) {
        out[dst + i++] = b & mask;
        b >>>= bits;
      }
    }
    return out;
  }
  for (let r = 0; r < rows; r++) {
    let p = r * rowBytes;
    const dst = r * count;
    let i = 0;
    if (bits === 3) {
      // 8 codes per 3 bytes: decode whole 24-bit words, leave the tail to the generic loop.
      const full = count - (count % 8);
      while (i < full) {
        let w = packed[p]! | (packed[p + 1]! << 8) | (packed[p + 2]! << 16);
        p += 3;
        for (let j = 0; j < 8; j++, w >>>= 3) out[dst + i++] = w & 7;
      }
    }
    let acc = 0;
    let filled = 0;
    for (; i < count; i++) {
      if (filled < bits) {
        acc |= packed[p++]! << filled;
        filled += 8;
      }
      out[dst + i] = acc & mask;
      acc >>>= bits;
      filled -= bits;
    }
  }
  return out;
}

/** Reads code `i` of a packed row starting at byte `rowStart` (random access; for kernels and spot checks). */
export function readPackedCode(packed: Uint8Array, rowStart: number, i: number, bits: number): number {
  const bit = i * bits;
  const byte = rowStart + (bit >>> 3);
  const shift = bit & 7;
  // Two bytes always suffice for b ≤ 8 (b = 3 can straddle a byte boundary).
  const word = packed[byte]! | ((shift + bits > 8 ? packed[byte + 1]! : 0) << 8);
  return (word >>> shift) & ((1 << bits) - 1);
}
