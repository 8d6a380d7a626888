/**
 * One shared wasm memory of a backend instance: the control block (used in the
 * first memory only), a free-list heap for weights, reusable scratch regions
 * (activations, output, …) and the dense weight cache keyed by tensor
 * identity. A backend holds one or more of these (see memory-set.ts).
 */
import { isHalfPrecision, SparqError, type DenseWeightDType, type Tensor } from '@sparq/tensor';
import { FreeListAllocator } from './allocator';
import { CTL_BYTES } from './control-block';
import { HALF_KIND, MAX_PAGES, MODULE_MIN_PAGES, type DenseExports } from './wasm-module';

const PAGE = 65536;

/** Device form of a dense weight: its byte offset and, for f16 / bf16 storage, the `matmulHalf` kind. */
export interface DenseWeightRef {
  ptr: number;
  /** The `matmulHalf` kind (f16 with or without infinities / NaNs, or bf16); undefined for f32. */
  half?: number;
}

/** A cached device copy of a weight, always stored as [n, k] (rows = output features). */
interface WeightEntry extends DenseWeightRef {
  /** Whether the source tensor was given as [n, k] (`transposeB`) or [k, n]. */
  transposeB: boolean;
}

/** One scratch region that only grows (by 1.5× to avoid re-allocating every call). */
interface Scratch {
  ptr: number;
  bytes: number;
}

/** Shared memory + heap + weight cache. */
export class WasmHeap {
  /** The memory shared with every worker. */
  readonly memory: WebAssembly.Memory;
  /** The heap over `[CTL_BYTES, memory end)`. */
  readonly alloc: FreeListAllocator;
  private f32View: Float32Array;
  private u8View: Uint8Array;
  private readonly weights = new WeakMap<Tensor, WeightEntry>();
  // Frees the wasm copy of a weight tensor that was garbage-collected without release().
  private readonly finalizer = new FinalizationRegistry<number>((ptr) => {
    if (this.alive && this.alloc.sizeOf(ptr) !== undefined) this.alloc.free(ptr);
  });
  private readonly scratch: Scratch[] = [
    { ptr: -1, bytes: 0 },
    { ptr: -1, bytes: 0 },
    { ptr: -1, bytes: 0 },
    { ptr: -1, bytes: 0 },
  ];
  private alive = true;
  /** Set after instantiation (the exports need the memory first). */
  ex: DenseExports | undefined;

  /** Largest size of this memory in 64 KiB pages (it grows on demand up to here). */
  readonly maxPages: number;

  /** Creates the shared memory (`initialPages` ≥ the module minimum, at most `maxPages` ≤ 65536). */
  constructor(initialPages = 256, maxPages = MAX_PAGES) {
    this.maxPages = Math.max(MODULE_MIN_PAGES, Math.min(MAX_PAGES, Math.floor(maxPages)));
    this.memory = new WebAssembly.Memory({
      initial: Math.min(this.maxPages, Math.max(MODULE_MIN_PAGES, initialPages)),
      // A smaller maximum also reserves less address space (shared memories reserve it up front).
      maximum: this.maxPages,
      shared: true,
    });
    this.f32View = new Float32Array(this.memory.buffer);
    this.u8View = new Uint8Array(this.memory.buffer);
    this.alloc = new FreeListAllocator({
      base: CTL_BYTES,
      end: this.memory.buffer.byteLength,
      align: 64,
      grow: (minEnd) => this.grow(minEnd),
    });
  }

  /** Float32 view of the whole memory (re-created after growth). */
  get f32(): Float32Array {
    return this.f32View;
  }

  /** Byte view of the whole memory (re-created after growth). */
  get u8(): Uint8Array {
    return this.u8View;
  }

  /**
   * Byte offset of the [n, k] device copy of weight `b`, uploading it on first
   * use. A [k, n] weight (`transposeB = false`) is transposed once here, so
   * every later call runs the same A·Wᵀ kernel.
   */
  weight(b: Tensor<DenseWeightDType>, transposeB: boolean): DenseWeightRef {
    const hit = this.weights.get(b);
    if (hit && hit.transposeB === transposeB) return hit;
    if (hit) this.release(b);
    if (isHalfPrecision(b)) return this.halfWeight(b, transposeB);
    const data = b.toF32().data; // b itself: f32 is the only other storage type
    const bytes = data.length * 4;
    const ptr = this.alloc.alloc(bytes);
    if (transposeB) this.f32.set(data, ptr >>> 2);
    else {
      let tmp: number;
      try {
        tmp = this.alloc.alloc(bytes);
      } catch (e) {
        this.alloc.free(ptr);
        throw e;
      }
      this.f32.set(data, tmp >>> 2);
      const [k, n] = b.shape as [number, number];
      this.exports().transpose(tmp, ptr, k, n);
      this.alloc.free(tmp);
    }
    const entry: WeightEntry = { ptr, transposeB };
    this.weights.set(b, entry);
    this.finalizer.register(b, ptr, entry);
    return entry;
  }

  /**
   * Uploads an f16 / bf16 weight as [n, k] u16 rows (a [k, n] one transposed
   * here, in JS) and picks its kernel kind: f16 weights are scanned once for
   * infinities and NaNs, which need one more fix-up per value in the kernel.
   */
  private halfWeight(b: Tensor<'f16' | 'bf16'>, transposeB: boolean): DenseWeightRef {
    const src = b.data;
    const [r, c] = b.shape as [number, number];
    let rows = src;
    if (!transposeB) {
      rows = new Uint16Array(src.length);
      for (let p = 0; p < r; p++) for (let j = 0; j < c; j++) rows[j * r + p] = src[p * c + j]!;
    }
    let half: number = HALF_KIND.bf16;
    if (b.dtype === 'f16') {
      half = HALF_KIND.f16Finite;
      for (let i = 0; i < rows.length; i++) {
        if ((rows[i]! & 0x7c00) === 0x7c00) {
          half = HALF_KIND.f16;
          break;
        }
      }
    }
    const ptr = this.alloc.alloc(rows.byteLength);
    this.u8.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), ptr);
    const entry: WeightEntry = { ptr, transposeB, half };
    this.weights.set(b, entry);
    this.finalizer.register(b, ptr, entry);
    return entry;
  }

  /** True when `t` has a device copy. */
  isCached(t: Tensor): boolean {
    return this.weights.has(t);
  }

  /** Frees the device copy of `t`, if any. */
  release(t: Tensor): void {
    const hit = this.weights.get(t);
    if (!hit) return;
    this.weights.delete(t);
    this.finalizer.unregister(hit);
    this.alloc.free(hit.ptr);
  }

  /**
   * A scratch region of at least `bytes`; contents are not kept. Slot 0:
   * activations, 1: output, 2: per-thread decode rows, 3: call descriptor and
   * quantized activations of the compressed kernels.
   */
  scratchPtr(slot: 0 | 1 | 2 | 3, bytes: number): number {
    const s = this.scratch[slot]!;
    if (s.bytes < bytes) {
      const want = Math.max(bytes, Math.ceil(s.bytes * 1.5));
      if (s.ptr >= 0) this.alloc.free(s.ptr);
      s.ptr = -1;
      s.bytes = 0;
      s.ptr = this.alloc.alloc(want);
      s.bytes = want;
    }
    return s.ptr;
  }

  /** Bytes held by the scratch regions (the rest of the live heap is weights). */
  get scratchBytes(): number {
    let s = 0;
    for (const r of this.scratch) if (r.ptr >= 0) s += this.alloc.sizeOf(r.ptr) ?? 0;
    return s;
  }

  /** Marks the heap dead (the finalizer becomes a no-op). */
  dispose(): void {
    this.alive = false;
  }

  private exports(): DenseExports {
    if (!this.ex) throw new SparqError('E_INTERNAL', 'cpu-wasm: heap used before the module was instantiated');
    return this.ex;
  }

  private grow(minEnd: number): number | undefined {
    const cur = this.memory.buffer.byteLength;
    const curPages = cur / PAGE;
    // Grow by at least 25 % so a sequence of weight uploads does not grow page by page.
    const needPages = Math.ceil(minEnd / PAGE) - curPages;
    const pages = Math.min(this.maxPages - curPages, Math.max(needPages, Math.ceil(curPages / 4)));
    if (pages < needPages || pages <= 0) return undefined;
    try {
      this.memory.grow(pages);
    } catch {
      return undefined;
    }
    this.f32View = new Float32Array(this.memory.buffer);
    this.u8View = new Uint8Array(this.memory.buffer);
    return this.memory.buffer.byteLength;
  }
}
