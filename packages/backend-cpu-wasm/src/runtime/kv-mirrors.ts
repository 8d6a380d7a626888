/**
 * Resident copies of append-only key/value caches for the attention kernel,
 * driven by the contract's `cacheId` / `cachedRows` hint: per cache id, the k
 * and v rows live in the primary wasm memory, head-major so that each head's
 * keys are one sequential stream, and a decode step copies its one new row
 * instead of the whole cache (at t = 1024 and 4096-wide rows the full copy is
 * 33 MB per layer and token).
 *
 * Mirrors hold a power of two of rows and grow by doubling (rows moved inside
 * the memory, one block per head). Room is bounded by a byte budget and by the
 * memory's room for weights (the per-call scratch reserve stays free;
 * MemorySet counts mirrors with the weights, so later weights go to another
 * memory): without room the call falls back to a per-call copy, which gives
 * the same result. A mirror becomes evictable once it has gone unused for two
 * rounds over all resident mirrors, so a decode loop that cycles through its
 * layers never evicts its own caches, while those of finished sequences (new
 * sequences use new ids) make room.
 */
import { scratchReserve } from './memory-set';
import type { WasmHeap } from './wasm-heap';

interface Mirror {
  kW: number;
  capacity: number;
  rows: number;
  kPtr: number;
  vPtr: number;
  lastUse: number;
}

/** Rows a new or grown mirror holds for t rows: the next power of two above t (at least 64), so decoding grows it rarely. */
const capacityFor = (t: number): number => Math.max(64, 2 ** Math.ceil(Math.log2(t + 1)));

/** Resident key/value rows per cache id (see the module comment). */
export class KvMirrors {
  private readonly mirrors = new Map<number, Mirror>();
  private bytes = 0;
  private clock = 0;

  /** Mirrors allocate in `heap`, at most `budget` bytes in all (0 disables them). */
  constructor(
    private readonly heap: WasmHeap,
    private readonly budget: number,
  ) {}

  /**
   * Byte offsets of the k and v mirrors of cache `id` in the heap, laid out
   * head-major `[kvHeads, capacity, headDim]`, holding rows `[0, t)` after
   * copying the rows from `cachedRows` on (and every row of a new or grown
   * mirror) from `k` and `v` (row-major `[t, kvHeads·headDim]`); `undefined`
   * when there is no room (copy per call).
   */
  sync(
    id: number,
    cachedRows: number,
    k: Float32Array,
    v: Float32Array,
    t: number,
    kvHeads: number,
    headDim: number,
  ): { kPtr: number; vPtr: number; capacity: number } | undefined {
    const kW = kvHeads * headDim;
    const now = ++this.clock;
    let mir = this.mirrors.get(id);
    if (mir && mir.kW !== kW) {
      this.drop(id, mir);
      mir = undefined;
    }
    if (mir && t > mir.capacity) {
      // Grow: move the resident rows inside the memory (one block per head), then drop the old mirror.
      const old = mir;
      this.mirrors.delete(id);
      mir = this.allocate(id, kW, capacityFor(t), now);
      if (mir) {
        const f32 = this.heap.f32;
        for (let h = 0; h < kvHeads; h++) {
          const src = h * old.capacity * headDim;
          const dst = h * mir.capacity * headDim;
          f32.copyWithin((mir.kPtr >>> 2) + dst, (old.kPtr >>> 2) + src, (old.kPtr >>> 2) + src + old.rows * headDim);
          f32.copyWithin((mir.vPtr >>> 2) + dst, (old.vPtr >>> 2) + src, (old.vPtr >>> 2) + src + old.rows * headDim);
        }
        mir.rows = old.rows;
      }
      this.release(old);
    } else if (!mir) {
      mir = this.allocate(id, kW, capacityFor(t), now);
    }
    if (!mir) return undefined;
    // Rows the mirror holds and the caller vouches for are kept; the rest is copied.
    const from = Math.min(cachedRows, mir.rows);
    if (from < t) {
      const f32 = this.heap.f32;
      const k0 = mir.kPtr >>> 2;
      const v0 = mir.vPtr >>> 2;
      for (let h = 0; h < kvHeads; h++) {
        const dst = (h * mir.capacity) * headDim;
        for (let j = from; j < t; j++) {
          const src = j * kW + h * headDim;
          f32.set(k.subarray(src, src + headDim), k0 + dst + j * headDim);
          f32.set(v.subarray(src, src + headDim), v0 + dst + j * headDim);
        }
      }
    }
    mir.rows = t;
    mir.lastUse = now;
    return { kPtr: mir.kPtr, vPtr: mir.vPtr, capacity: mir.capacity };
  }

  private allocate(id: number, kW: number, capacity: number, now: number): Mirror | undefined {
    const half = capacity * kW * 4;
    if (2 * half > this.budget) return undefined;
    this.evictFor(2 * half, now);
    if (this.bytes + 2 * half > this.budget) return undefined;
    // Like weights, mirrors leave the memory's scratch reserve free (MemorySet counts them with the weights).
    const limit = this.heap.maxPages * 65536;
    if (this.heap.alloc.allocatedBytes - this.heap.scratchBytes + 2 * half > limit - scratchReserve(limit)) return undefined;
    let kPtr = -1;
    try {
      kPtr = this.heap.alloc.alloc(half);
      const vPtr = this.heap.alloc.alloc(half);
      const mir: Mirror = { kW, capacity, rows: 0, kPtr, vPtr, lastUse: now };
      this.mirrors.set(id, mir);
      this.bytes += 2 * half;
      return mir;
    } catch {
      // The memory is full (weights first): fall back to per-call copies.
      if (kPtr >= 0) this.heap.alloc.free(kPtr);
      return undefined;
    }
  }

  /** Drops mirrors unused for two rounds over the residents, oldest first, until `need` more bytes fit the budget. */
  private evictFor(need: number, now: number): void {
    if (this.bytes + need <= this.budget) return;
    const stale = now - 2 * (this.mirrors.size + 1);
    const candidates = [...this.mirrors].filter(([, m]) => m.lastUse < stale).sort((a, b) => a[1].lastUse - b[1].lastUse);
    for (const [id, m] of candidates) {
      if (this.bytes + need <= this.budget) break;
      this.drop(id, m);
    }
  }

  private drop(id: number, m: Mirror): void {
    this.release(m);
    this.mirrors.delete(id);
  }

  private release(m: Mirror): void {
    this.heap.alloc.free(m.kPtr);
    this.heap.alloc.free(m.vPtr);
    this.bytes -= 2 * m.capacity * m.kW * 4;
  }
}
