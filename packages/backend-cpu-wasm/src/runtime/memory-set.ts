/**
 * The wasm memories of one backend instance and the placement of weights in
 * them. A wasm32 memory holds at most 4 GiB — about the packed weights of a
 * LLaMA-7B-sized INT4 model alone — so weights are spread over as many
 * memories as needed: each weight lives whole in one memory (its kernels run
 * there, on that memory's module instances), and a new memory is opened when
 * no existing one has room. Every memory keeps a reserve beyond its weights
 * for the per-call scratch (activations, outputs, decode rows).
 */
import { isSparqError, SparqError, type DenseWeightDType, type PackedMatrix, type Tensor } from '@sparq/tensor';
import { PackedWeightCache, packedUploadBytes, type PackedWeight } from './packed-weights';
import type { ThreadPool } from './thread-pool';
import { WasmHeap, type DenseWeightRef } from './wasm-heap';
import { instantiateDense, MAX_PAGES, MODULE_MIN_PAGES, type DenseExports } from './wasm-module';

const PAGE = 65536;
/** Initial pages of every memory after the first (they grow on demand). */
const LATER_INITIAL_PAGES = 16;

/** One memory: heap, main-thread instance, packed-weight cache and its pool memory id. */
export interface WasmMemorySlot {
  /** Memory id for `ThreadPool.run`. */
  readonly id: number;
  readonly heap: WasmHeap;
  readonly ex: DenseExports;
  readonly packed: PackedWeightCache;
}

/** Options of {@link MemorySet}. */
/** Largest size of one memory by default: 4 GiB less 64 MiB, so no buffer ends exactly at 2³² (u32 pointer wrap). */
export const DEFAULT_MAX_MEMORY_BYTES = 2 ** 32 - 2 ** 26;

/**
 * Bytes of a memory kept free of weights for per-call scratch (activations,
 * outputs, decode rows, GEMM panels): 1/4 of the memory, at most 256 MiB —
 * enough for a GEMM of m = 512 at k = 11008 next to a full memory of weights.
 */
export function scratchReserve(maxMemoryBytes: number): number {
  return Math.min(256 * 2 ** 20, Math.floor(maxMemoryBytes / 4));
}

/** The memories of one backend and which weight lives in which. */
export class MemorySet {
  private readonly slots: WasmMemorySlot[] = [];
  private readonly placed = new WeakMap<object, WasmMemorySlot>();
  private readonly maxPages: number;
  /** Weight bytes one memory may hold (its size cap less the scratch reserve). */
  readonly weightBudget: number;

  /** Creates the first memory (id 0, the one `pool` was created on). */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly pool: ThreadPool,
    first: { heap: WasmHeap; ex: DenseExports },
  ) {
    this.maxPages = first.heap.maxPages;
    this.weightBudget = this.maxPages * PAGE - scratchReserve(this.maxPages * PAGE);
    this.slots.push({ id: 0, ...first, packed: new PackedWeightCache(first.heap) });
  }

  /** Pages of one memory for a byte cap, validated. */
  static pagesFor(maxMemoryBytes: number): number {
    const pages = Math.floor(maxMemoryBytes / PAGE);
    if (!Number.isFinite(maxMemoryBytes) || pages < 16 || pages > MAX_PAGES) {
      throw new SparqError('E_ARG', `cpu-wasm: maxMemoryBytes must be between 1 MiB and 4 GiB, found ${maxMemoryBytes}`);
    }
    return Math.max(MODULE_MIN_PAGES, pages);
  }

  /** The first memory (probes, and the control block of the pool). */
  get primary(): WasmMemorySlot {
    return this.slots[0]!;
  }

  /** Number of memories opened so far. */
  get count(): number {
    return this.slots.length;
  }

  /** Weight bytes live in each memory (heap blocks other than scratch). */
  weightBytes(): number[] {
    return this.slots.map((s) => s.heap.alloc.allocatedBytes - s.heap.scratchBytes);
  }

  /** Current size of each memory in bytes. */
  memoryBytes(): number[] {
    return this.slots.map((s) => s.heap.memory.buffer.byteLength);
  }

  /** The memory holding dense weight `b` (uploading it first, as [n, k], if needed) and its offset there. */
  dense(b: Tensor<DenseWeightDType>, transposeB: boolean): { slot: WasmMemorySlot; ref: DenseWeightRef } {
    const hit = this.placed.get(b);
    if (hit && hit.heap.isCached(b)) return { slot: hit, ref: hit.heap.weight(b, transposeB) };
    const bytes = b.data.length * (b.dtype === 'f32' ? 4 : 2);
    // A [k, n] f32 weight is transposed through a temporary block of the same size (half ones in JS).
    const need = align(bytes) * (transposeB || b.dtype !== 'f32' ? 1 : 2);
    const slot = this.place(b, need, `dense ${b.dtype} weight [${b.shape}]`, (s) => s.heap.weight(b, transposeB));
    return { slot, ref: slot.heap.weight(b, transposeB) };
  }

  /** The memory holding packed weight `w` (uploading it first if needed) and its device form there. */
  packed(w: PackedMatrix): { slot: WasmMemorySlot; pw: PackedWeight } {
    const hit = this.placed.get(w);
    if (hit && hit.packed.has(w)) return { slot: hit, pw: hit.packed.get(w) };
    const slot = this.place(w, packedUploadBytes(w), `packed '${w.kind}' weight [${w.rows}, ${w.cols}]`, (s) => s.packed.get(w));
    return { slot, pw: slot.packed.get(w) };
  }

  /** Frees the device copy of a dense or packed weight, wherever it lives. */
  release(t: Tensor | PackedMatrix): void {
    const slot = this.placed.get(t);
    if (!slot) return;
    this.placed.delete(t);
    if ('dtype' in t) slot.heap.release(t);
    else slot.packed.release(t);
  }

  /** Marks every heap dead (finalizers become no-ops). */
  dispose(): void {
    for (const s of this.slots) {
      s.heap.dispose();
      s.packed.dispose();
    }
  }

  /**
   * Uploads a weight needing `need` bytes into the first memory whose weights
   * leave room for it, or into a new memory. A memory can still refuse (free
   * space split into holes): then the next one is tried.
   */
  private place(key: object, need: number, what: string, upload: (s: WasmMemorySlot) => unknown): WasmMemorySlot {
    if (need > this.weightBudget) {
      throw new SparqError(
        'E_KERNEL_UNSUPPORTED',
        `cpu-wasm: ${what} needs ${need} bytes of wasm memory, but one memory holds at most ${this.weightBudget} bytes of weights ` +
          `(maxMemoryBytes ${this.maxPages * PAGE} less ${scratchReserve(this.maxPages * PAGE)} reserved for scratch)`,
        { hint: 'a single weight must fit one wasm32 memory: split the weight, or raise maxMemoryBytes (at most 4 GiB)' },
      );
    }
    const live = this.weightBytes();
    for (const s of this.slots) {
      if (live[s.id]! + need > this.weightBudget) continue;
      if (this.tryUpload(s, upload)) {
        this.placed.set(key, s);
        return s;
      }
    }
    const s = this.open();
    if (!this.tryUpload(s, upload)) {
      throw new SparqError('E_KERNEL_UNSUPPORTED', `cpu-wasm: ${what} (${need} bytes) did not fit a new wasm memory of ${this.maxPages * PAGE} bytes`);
    }
    this.placed.set(key, s);
    return s;
  }

  /** Runs an upload; false when the memory is out of space (the upload freed what it allocated). */
  private tryUpload(s: WasmMemorySlot, upload: (s: WasmMemorySlot) => unknown): boolean {
    try {
      upload(s);
      return true;
    } catch (e) {
      if (isSparqError(e) && e.code === 'E_KERNEL_UNSUPPORTED' && /out of wasm memory/.test(e.message)) return false;
      throw e;
    }
  }

  /** Opens one more memory and attaches it to every thread of the pool. */
  private open(): WasmMemorySlot {
    const heap = new WasmHeap(LATER_INITIAL_PAGES, this.maxPages);
    const ex = instantiateDense(this.module, heap.memory);
    heap.ex = ex;
    const id = this.pool.attach(heap.memory, ex);
    const slot: WasmMemorySlot = { id, heap, ex, packed: new PackedWeightCache(heap) };
    if (id !== this.slots.length) throw new SparqError('E_INTERNAL', `cpu-wasm: memory id ${id} out of step with ${this.slots.length} memories`);
    this.slots.push(slot);
    return slot;
  }
}

const align = (x: number): number => Math.ceil(x / 64) * 64;
