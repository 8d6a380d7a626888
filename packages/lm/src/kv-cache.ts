/**
 * The key/value cache of incremental decoding: per layer, the post-RoPE keys
 * and the values of every position so far, `[positions, kvHeads · headDim]`.
 */

/** Cache ids handed out so far (see {@link KvCache.write}); unique within the process. */
let nextCacheId = 0;

/** Per-layer key/value storage of one sequence. Create with {@link CausalLM.createCache}. */
export class KvCache {
  /** Positions already stored (the next token's position). */
  length = 0;
  /** Cache id of layer 0 in this generation of the cache; layer l is `idBase + l`. */
  private idBase: number;
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];
  private capacity: number;

  /** An empty cache for `numLayers` layers of key/value width `kvDim`. */
  constructor(
    readonly numLayers: number,
    readonly kvDim: number,
    initialCapacity = 64,
  ) {
    this.capacity = initialCapacity;
    this.idBase = nextCacheId;
    nextCacheId += numLayers;
    this.keys = Array.from({ length: numLayers }, () => new Float32Array(initialCapacity * kvDim));
    this.values = Array.from({ length: numLayers }, () => new Float32Array(initialCapacity * kvDim));
  }

  /**
   * Writes `n` rows of keys and values for `layer` at positions
   * `length … length + n − 1` (the cache length advances with {@link commit}
   * once every layer has been written) and returns the layer's views over all
   * `length + n` positions, with the attention kernel's cache hint: rows
   * before `cachedRows` are unchanged since the layer's previous write under
   * the same `cacheId` (a {@link reset} starts new ids).
   */
  write(layer: number, k: Float32Array, v: Float32Array, n: number): { keys: Float32Array; values: Float32Array; cacheId: number; cachedRows: number } {
    const need = this.length + n;
    if (need > this.capacity) this.grow(need);
    const o = this.length * this.kvDim;
    this.keys[layer]!.set(k.subarray(0, n * this.kvDim), o);
    this.values[layer]!.set(v.subarray(0, n * this.kvDim), o);
    const end = need * this.kvDim;
    return { keys: this.keys[layer]!.subarray(0, end), values: this.values[layer]!.subarray(0, end), cacheId: this.idBase + layer, cachedRows: this.length };
  }

  /** Advances the length by `n` after a forward pass wrote all layers. */
  commit(n: number): void {
    this.length += n;
  }

  /** Forgets everything (keeps the allocation); later writes carry new cache ids. */
  reset(): void {
    this.length = 0;
    this.idBase = nextCacheId;
    nextCacheId += this.numLayers;
  }

  private grow(need: number): void {
    let cap = this.capacity;
    while (cap < need) cap *= 2;
    for (let l = 0; l < this.numLayers; l++) {
      const k = new Float32Array(cap * this.kvDim);
      k.set(this.keys[l]!);
      this.keys[l] = k;
      const v = new Float32Array(cap * this.kvDim);
      v.set(this.values[l]!);
      this.values[l] = v;
    }
    this.capacity = cap;
  }
}
