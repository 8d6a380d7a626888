// The attention cache hint a KvCache hands out: per layer one id, rows before
// `cachedRows` unchanged since that id's previous write; a reset starts new ids.
import { describe, expect, it } from 'vitest';
import { KvCache } from './kv-cache';

describe('KvCache cache hint', () => {
  it('gives each layer its own id, advances cachedRows with commit, and changes ids on reset', () => {
    const kvDim = 4;
    const c = new KvCache(2, kvDim, 2);
    const row = (x: number, n = 1) => new Float32Array(n * kvDim).fill(x);
    const a0 = c.write(0, row(1, 3), row(2, 3), 3); // grows past the initial capacity of 2
    const a1 = c.write(1, row(3, 3), row(4, 3), 3);
    expect([a0.cachedRows, a1.cachedRows]).toEqual([0, 0]);
    expect(a1.cacheId).toBe(a0.cacheId + 1);
    c.commit(3);
    const b0 = c.write(0, row(5), row(6), 1);
    expect(b0).toMatchObject({ cacheId: a0.cacheId, cachedRows: 3 });
    // The promise: the earlier rows are the ones written before.
    expect(Array.from(b0.keys.subarray(0, 3 * kvDim))).toEqual(Array.from(row(1, 3)));
    c.commit(1);
    c.reset();
    const r0 = c.write(0, row(7), row(8), 1);
    expect(r0.cachedRows).toBe(0);
    expect(r0.cacheId).not.toBe(a0.cacheId);
    expect(r0.cacheId).not.toBe(a1.cacheId);
    // A second cache never shares ids with the first.
    const other = new KvCache(2, kvDim).write(0, row(9), row(9), 1);
    expect([a0.cacheId, a1.cacheId, r0.cacheId]).not.toContain(other.cacheId);
  });
});
