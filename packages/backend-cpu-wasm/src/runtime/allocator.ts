/**
 * A first-fit free-list allocator over a growable linear region (the wasm
 * memory). Free blocks are kept sorted by offset and coalesced on free, so
 * releasing and re-uploading weights of the same sizes does not fragment the
 * heap. Only offsets are managed here; the caller owns the bytes.
 */
import { SparqError } from '@sparq/tensor';

/** Options of {@link FreeListAllocator}. */
export interface AllocatorOptions {
  /** First usable byte offset. */
  base: number;
  /** Current end of the region (exclusive). */
  end: number;
  /** Block alignment in bytes (a power of two); 64 = one cache line. */
  align?: number;
  /**
   * Called when no free block fits: grow the region so that it ends at or after
   * `minEnd`, and return the new end, or `undefined` when it cannot grow.
   */
  grow?(minEnd: number): number | undefined;
}

interface Span {
  off: number;
  size: number;
}

/** Offsets-only heap: `alloc(bytes)` → offset, `free(offset)`. */
export class FreeListAllocator {
  private readonly align: number;
  private readonly growFn: AllocatorOptions['grow'];
  private end: number;
  /** Free spans sorted by offset, never adjacent (coalesced). */
  private readonly free_: Span[] = [];
  /** Live blocks: offset → size (rounded to the alignment). */
  private readonly live = new Map<number, number>();

  /** Creates a heap over `[base, end)`. */
  constructor(opts: AllocatorOptions) {
    this.align = opts.align ?? 64;
    this.growFn = opts.grow;
    const base = this.roundUp(opts.base);
    this.end = opts.end;
    if (this.end > base) this.free_.push({ off: base, size: this.end - base });
  }

  /** Bytes currently allocated (after rounding). */
  get allocatedBytes(): number {
    let s = 0;
    for (const v of this.live.values()) s += v;
    return s;
  }

  /** Number of free spans (1 after everything was freed: proof of coalescing). */
  get freeSpanCount(): number {
    return this.free_.length;
  }

  /** Size of the block at `off`, or `undefined` if it is not live. */
  sizeOf(off: number): number | undefined {
    return this.live.get(off);
  }

  /** Allocates `bytes` (≥ 1 byte is reserved even for 0); throws `E_KERNEL_UNSUPPORTED` when the region is full. */
  alloc(bytes: number): number {
    const size = this.roundUp(Math.max(bytes, 1));
    let i = this.free_.findIndex((s) => s.size >= size);
    if (i < 0) {
      // Grow so that the last free span (if it touches the end) plus new space fits.
      const last = this.free_[this.free_.length - 1];
      const tailFree = last && last.off + last.size === this.end ? last.size : 0;
      const newEnd = this.growFn?.(this.end + size - tailFree);
      if (newEnd === undefined || newEnd < this.end + size - tailFree) {
        throw new SparqError(
          'E_KERNEL_UNSUPPORTED',
          `cpu-wasm: out of wasm memory: cannot allocate ${size} bytes (${this.allocatedBytes} bytes live; the memory cannot grow further)`,
          { hint: 'release() weights that are no longer used, or use a smaller model / batch' },
        );
      }
      this.insertFree(this.end, newEnd - this.end);
      this.end = newEnd;
      i = this.free_.findIndex((s) => s.size >= size);
    }
    const span = this.free_[i]!;
    const off = span.off;
    if (span.size === size) this.free_.splice(i, 1);
    else {
      span.off += size;
      span.size -= size;
    }
    this.live.set(off, size);
    return off;
  }

  /** Returns a block to the heap; throws `E_INTERNAL` on a double or foreign free. */
  free(off: number): void {
    const size = this.live.get(off);
    if (size === undefined) throw new SparqError('E_INTERNAL', `cpu-wasm allocator: free of unknown block at ${off}`);
    this.live.delete(off);
    this.insertFree(off, size);
  }

  private insertFree(off: number, size: number): void {
    // Binary search for the first span after `off`, then merge with neighbours.
    let lo = 0;
    let hi = this.free_.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free_[mid]!.off < off) lo = mid + 1;
      else hi = mid;
    }
    const prev = this.free_[lo - 1];
    const next = this.free_[lo];
    if (prev && prev.off + prev.size === off) {
      prev.size += size;
      if (next && prev.off + prev.size === next.off) {
        prev.size += next.size;
        this.free_.splice(lo, 1);
      }
    } else if (next && off + size === next.off) {
      next.off = off;
      next.size += size;
    } else {
      this.free_.splice(lo, 0, { off, size });
    }
  }

  private roundUp(x: number): number {
    return Math.ceil(x / this.align) * this.align;
  }
}
