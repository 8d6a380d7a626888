/**
 * Splitting weights that exceed the device's `maxStorageBufferBindingSize`
 * (128 MiB by default) along output rows: every chunk's buffers must fit one
 * binding, and a chunk may not exceed the 65535-workgroup grid dimension.
 */
import { SparqError } from '@sparq/tensor';

/** Extra bytes every uploaded buffer carries: rounding to 4 plus two words read past a row's last code (segment reads). */
export const BUFFER_SLACK = 12;

/** A contiguous range of rows `[r0, r1)`. */
export interface RowChunk {
  r0: number;
  r1: number;
}

/** Byte offset of row `r` in one of a weight's arrays (`r = rows` gives its total size); non-decreasing in r. */
export type RowOffset = (r: number) => number;

/**
 * Greedily cuts `rows` rows into chunks whose every array slice plus
 * {@link BUFFER_SLACK} fits `limit` bytes and that have at most `maxRows`
 * rows. Throws `E_KERNEL_UNSUPPORTED` when one row alone is too big.
 */
export function planRowChunks(rows: number, arrays: readonly RowOffset[], limit: number, maxRows: number): RowChunk[] {
  const fits = (r0: number, r1: number): boolean => arrays.every((off) => off(r1) - off(r0) + BUFFER_SLACK <= limit);
  const chunks: RowChunk[] = [];
  let r0 = 0;
  while (r0 < rows) {
    if (!fits(r0, r0 + 1)) {
      const worst = Math.max(...arrays.map((off) => off(r0 + 1) - off(r0)));
      throw new SparqError('E_KERNEL_UNSUPPORTED', `one weight row needs ${worst} bytes, more than the device's storage binding limit of ${limit} bytes`, {
        details: { expected: `≤ ${limit - BUFFER_SLACK} bytes per row`, found: worst },
      });
    }
    // Largest r1 ≤ min(rows, r0 + maxRows) that fits (sizes grow with r1: binary search).
    let lo = r0 + 1;
    let hi = Math.min(rows, r0 + maxRows);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(r0, mid)) lo = mid;
      else hi = mid - 1;
    }
    chunks.push({ r0, r1: lo });
    r0 = lo;
  }
  return chunks;
}

/** Row offsets of an array with a fixed number of bytes per row. */
export const fixedRows =
  (bytesPerRow: number): RowOffset =>
  (r) =>
    r * bytesPerRow;
