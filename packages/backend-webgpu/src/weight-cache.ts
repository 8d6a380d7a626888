/// <reference types="@webgpu/types" />
/**
 * Device copies of weights, keyed by the weight object itself (a dense
 * `Tensor` or a packed matrix): each is uploaded once, split into row chunks
 * that fit a storage binding, and dropped by `release()`, by `dispose()`, or
 * when the weight object is garbage-collected.
 */

/** One row chunk of an uploaded weight: rows `[r0, r1)` and its buffers in binding order. */
export interface WeightChunk {
  r0: number;
  r1: number;
  buffers: GPUBuffer[];
}

/** An uploaded weight. */
export interface DeviceWeight {
  /** What layout the upload was made for (e.g. `dense-f16-T`); a mismatch re-uploads. */
  layout: string;
  chunks: WeightChunk[];
  bytes: number;
}

/** Counters of a {@link WeightCache}. */
export interface WeightCacheStats {
  /** Weights currently on the device. */
  weights: number;
  /** Their device bytes. */
  bytes: number;
  /** Their row chunks (more than `weights` when some were split to fit a binding). */
  chunks: number;
  /** Uploads since creation (a cache hit does not count). */
  uploads: number;
}

const destroyAll = (w: DeviceWeight): void => {
  for (const c of w.chunks) for (const b of c.buffers) b.destroy();
};

/** The cache. */
export class WeightCache {
  private readonly map = new WeakMap<object, DeviceWeight>();
  // WeakMaps cannot be iterated: `live` lets dispose() free everything.
  private readonly live = new Set<DeviceWeight>();
  private readonly registry = new FinalizationRegistry<DeviceWeight>((w) => this.drop(w));
  private uploads = 0;

  /** The cached copy of `key` for `layout`, uploading it with `upload` on a miss. */
  async get(key: object, layout: string, upload: () => Promise<DeviceWeight>): Promise<DeviceWeight> {
    const hit = this.map.get(key);
    if (hit && hit.layout === layout) return hit;
    if (hit) this.release(key);
    const w = await upload();
    this.uploads++;
    this.map.set(key, w);
    this.live.add(w);
    this.registry.register(key, w, key);
    return w;
  }

  /** Frees the device copy of `key`, if any. */
  release(key: object): void {
    const w = this.map.get(key);
    if (!w) return;
    this.map.delete(key);
    this.registry.unregister(key);
    this.drop(w);
  }

  /** Frees everything. */
  clear(): void {
    for (const w of [...this.live]) this.drop(w);
  }

  /** Current counters. */
  stats(): WeightCacheStats {
    let bytes = 0;
    let chunks = 0;
    for (const w of this.live) {
      bytes += w.bytes;
      chunks += w.chunks.length;
    }
    return { weights: this.live.size, bytes, chunks, uploads: this.uploads };
  }

  private drop(w: DeviceWeight): void {
    if (!this.live.delete(w)) return;
    destroyAll(w);
  }
}
