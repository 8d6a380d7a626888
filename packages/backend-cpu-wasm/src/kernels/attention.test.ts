// The attention kernel beyond the shared conformance cases: LLaMA-sized decode
// and prefill shapes (head dim 128, grouped-query heads, a long cache), a head
// dimension that is not a multiple of 4, thread-count independence, the
// resident key/value caches of the cacheId hint, and the shape errors.
// Oracle: @sparq/tensor's float64 attentionRef.
import { compareF32, MODEL_MAX_NMSE } from '@sparq/conformance';
import { attentionRef, createRng, isSparqError, Tensor, type Backend, type KernelAttrs } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasmMemoryStats, createCpuWasmBackend } from '../index';

const rng = createRng(7);
const randn = (rows: number, cols: number) => new Tensor('f32', [rows, cols], rng.fillNormal(new Float32Array(rows * cols)) as Float32Array);

function inputs(m: number, t: number, heads: number, kvHeads: number, hd: number) {
  return { q: randn(m, heads * hd), k: randn(t, kvHeads * hd), v: randn(t, kvHeads * hd) };
}

describe('cpu-wasm attention', () => {
  const backends: Backend[] = [];
  const make = (threads: number, kvCacheBytes?: number) => {
    const b = createCpuWasmBackend({ threads, minParallelWork: 0, ...(kvCacheBytes === undefined ? {} : { kvCacheBytes }) });
    backends.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.dispose()));
  });

  const shapes: [string, number, number, number, number, number, number | undefined][] = [
    ['7B decode, t = 300', 1, 300, 32, 32, 128, undefined],
    ['GQA decode 32/8, t = 160', 1, 160, 32, 8, 128, undefined],
    ['prefill 24 rows after 40 cached', 24, 64, 8, 2, 128, undefined],
    ['head dim 6, sliding window 5', 7, 20, 3, 1, 6, 5],
    ['head dim 20 (one 16-wide block and a tail)', 3, 9, 2, 2, 20, undefined],
  ];
  for (const [name, m, t, heads, kvHeads, hd, window] of shapes) {
    it(`matches the float64 reference: ${name}`, async () => {
      const be = make(2);
      const x = inputs(m, t, heads, kvHeads, hd);
      const attrs: KernelAttrs<'attention'> = { numHeads: heads, numKvHeads: kvHeads, headDim: hd, qPos0: t - m, ...(window ? { slidingWindow: window } : {}) };
      expect(be.supports('attention', x, attrs)).toBe(true);
      const out = await be.run('attention', x, attrs);
      expect([...out.shape]).toEqual([m, heads * hd]);
      expect(compareF32(out.data, attentionRef(x, attrs).data).nmse).toBeLessThanOrEqual(MODEL_MAX_NMSE);
    });
  }

  it('gives bit-identical results on 1 and 2 threads', async () => {
    // 30 (row, head) pairs claimed 4 at a time; then 1280 pairs, 128 (2 threads) / 160 (1 thread) at a time.
    for (const [m, t, heads, kvHeads, hd] of [[5, 33, 6, 2, 40], [40, 64, 32, 8, 16]] as const) {
      const x = inputs(m, t, heads, kvHeads, hd);
      const attrs = { numHeads: heads, numKvHeads: kvHeads, headDim: hd, qPos0: t - m };
      const one = await make(1).run('attention', x, attrs);
      const two = await make(2).run('attention', x, attrs);
      expect(Array.from(two.data)).toEqual(Array.from(one.data));
      expect(compareF32(two.data, attentionRef(x, attrs).data).nmse).toBeLessThanOrEqual(MODEL_MAX_NMSE);
    }
  });

  // An append-only cache as @sparq/lm's KvCache passes it: one array, rows appended, views over the first t rows.
  function growingCache(steps: number, kW: number) {
    const k = rng.fillNormal(new Float32Array(steps * kW)) as Float32Array;
    const v = rng.fillNormal(new Float32Array(steps * kW)) as Float32Array;
    return { k, v, view: (t: number) => ({ k: new Tensor('f32', [t, kW], k.subarray(0, t * kW)), v: new Tensor('f32', [t, kW], v.subarray(0, t * kW)) }) };
  }

  it('keeps an append-only cache resident under the cacheId hint and still matches the reference', async () => {
    const be = make(2);
    const [heads, kvHeads, hd] = [4, 2, 32];
    const kW = kvHeads * hd;
    const cache = growingCache(150, kW);
    let cached = 0;
    // Prefill 20 rows, then decode one row at a time past the mirror's first capacity (64 rows: it grows twice).
    for (let t = 20; t <= 150; t += t < 100 ? 1 : 7) {
      const m = cached === 0 ? t : t - cached;
      const x = { q: randn(m, heads * hd), ...cache.view(t) };
      const attrs = { numHeads: heads, numKvHeads: kvHeads, headDim: hd, qPos0: t - m, cacheId: 1000, cachedRows: cached };
      const out = await be.run('attention', x, attrs);
      expect(compareF32(out.data, attentionRef(x, attrs).data).nmse, `t = ${t}`).toBeLessThanOrEqual(MODEL_MAX_NMSE);
      cached = t;
    }
  });

  it('uses the resident rows it was promised (and copies everything without the hint or without room)', async () => {
    const [heads, hd] = [2, 16];
    const cache = growingCache(10, hd);
    const attrs = (cachedRows: number) => ({ numHeads: heads, numKvHeads: 1, headDim: hd, qPos0: 9, cacheId: 7, cachedRows });
    const q = randn(1, heads * hd);
    const resident = make(1);
    const noRoom = make(1, 0);
    await resident.run('attention', { q, ...cache.view(9) }, { ...attrs(0), qPos0: 8 });
    await noRoom.run('attention', { q, ...cache.view(9) }, { ...attrs(0), qPos0: 8 });
    const before = (await resident.run('attention', { q, ...cache.view(10) }, attrs(9))).data;
    // Break the promise on purpose: change row 0, then claim rows 0…8 unchanged.
    cache.v.fill(5, 0, hd);
    const changed = { q, ...cache.view(10) };
    const stale = await resident.run('attention', changed, attrs(9));
    expect(Array.from(stale.data)).toEqual(Array.from(before)); // the resident copy was used
    const ref = attentionRef(changed, attrs(9)).data;
    expect(compareF32((await noRoom.run('attention', changed, attrs(9))).data, ref).nmse).toBeLessThanOrEqual(MODEL_MAX_NMSE);
    expect(compareF32((await resident.run('attention', changed, { ...attrs(9), cacheId: 8 })).data, ref).nmse).toBeLessThanOrEqual(MODEL_MAX_NMSE);
  });

  it('moves the resident rows when a mirror grows (the promised rows are not re-read)', async () => {
    const [heads, hd] = [2, 8];
    const be = make(1);
    const cache = growingCache(65, hd);
    const attrs = (t: number, cachedRows: number) => ({ numHeads: heads, numKvHeads: 1, headDim: hd, qPos0: t - 1, cacheId: 99, cachedRows });
    await be.run('attention', { q: randn(1, heads * hd), ...cache.view(64) }, attrs(64, 0)); // fills the 64-row mirror
    const original = { k: cache.k.slice(), v: cache.v.slice() };
    cache.k.fill(-3, 0, hd); // break the promise for row 0, then grow past 64 rows
    const q = randn(1, heads * hd);
    const out = await be.run('attention', { q, ...cache.view(65) }, attrs(65, 64));
    const kept = { q, k: new Tensor('f32', [65, hd], original.k), v: new Tensor('f32', [65, hd], original.v) };
    expect(compareF32(out.data, attentionRef(kept, attrs(65, 64)).data).nmse).toBeLessThanOrEqual(MODEL_MAX_NMSE);
  });

  it('falls back to per-call copies when the budget holds fewer caches than are in use', async () => {
    const [heads, hd] = [2, 16];
    const be = make(1, 2 * 64 * hd * 4 * 2); // room for two 64-row mirrors
    const caches = [0, 1, 2].map(() => growingCache(30, hd));
    for (let t = 5; t <= 30; t++) {
      for (let id = 0; id < 3; id++) {
        const x = { q: randn(1, heads * hd), ...caches[id]!.view(t) };
        const attrs = { numHeads: heads, numKvHeads: 1, headDim: hd, qPos0: t - 1, cacheId: 500 + id, cachedRows: t === 5 ? 0 : t - 1 };
        expect(compareF32((await be.run('attention', x, attrs)).data, attentionRef(x, attrs).data).nmse).toBeLessThanOrEqual(MODEL_MAX_NMSE);
      }
    }
  });

  it('keeps resident caches out of the scratch reserve of the memory', async () => {
    // An 8 MiB memory keeps 2 MiB free for scratch, so 6 MiB for weights and caches (4 KiB rows here): caches of
    // 256 rows (2 MiB) and 512 rows (4 MiB) stay resident; a third of 128 rows (1 MiB) would still fit the memory
    // but not the 6 MiB, so that call copies per call, with the same result.
    const be = createCpuWasmBackend({ threads: 1, maxMemoryBytes: 8 * 2 ** 20, kvCacheBytes: 2 ** 30 });
    backends.push(be);
    const [heads, hd] = [8, 128];
    const MiB = 2 ** 20;
    for (const [t, resident] of [[200, 2 * MiB], [300, 6 * MiB], [100, 6 * MiB]] as const) {
      const x = inputs(1, t, heads, heads, hd);
      const attrs = { numHeads: heads, numKvHeads: heads, headDim: hd, qPos0: t - 1, cacheId: t, cachedRows: 0 };
      expect(compareF32((await be.run('attention', x, attrs)).data, attentionRef(x, attrs).data).nmse, `t = ${t}`).toBeLessThanOrEqual(MODEL_MAX_NMSE);
      expect(cpuWasmMemoryStats(be)!.weightBytes[0], `t = ${t}: resident caches`).toBe(resident);
    }
  });

  it('reports bad shapes as unsupported and throws E_KERNEL_UNSUPPORTED on run', async () => {
    const be = make(1);
    const x = inputs(2, 4, 4, 3, 8); // 3 KV heads do not divide 4 heads
    const attrs = { numHeads: 4, numKvHeads: 3, headDim: 8, qPos0: 2 };
    expect(be.supports('attention', x, attrs)).toMatch(/numKvHeads 3 does not divide numHeads 4/);
    const err = await be.run('attention', x, attrs).catch((e: unknown) => e);
    expect(isSparqError(err) && err.code).toBe('E_KERNEL_UNSUPPORTED');
    const late = { numHeads: 4, numKvHeads: 1, headDim: 8, qPos0: 3 }; // queries past the cache
    expect(be.supports('attention', inputs(2, 4, 4, 1, 8), late)).toMatch(/qPos0 \+ m ≤ t/);
    expect(be.supports('attention', inputs(1, 4, 4, 1, 8), { numHeads: 4, numKvHeads: 1, headDim: 8, qPos0: 3, cachedRows: 5 })).toMatch(/cachedRows/);
  });
});
