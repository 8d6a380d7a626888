// The attention kernel beyond the shared conformance cases: LLaMA-sized decode
// and prefill shapes (head dim 128, grouped-query heads, a long cache), a head
// dimension that is not a multiple of 4, thread-count independence, and the
// shape errors. Oracle: @sparq/tensor's float64 attentionRef.
import { compareF32, MODEL_MAX_NMSE } from '@sparq/conformance';
import { attentionRef, createRng, isSparqError, Tensor, type Backend, type KernelAttrs } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuWasmBackend } from '../index';

const rng = createRng(7);
const randn = (rows: number, cols: number) => new Tensor('f32', [rows, cols], rng.fillNormal(new Float32Array(rows * cols)) as Float32Array);

function inputs(m: number, t: number, heads: number, kvHeads: number, hd: number) {
  return { q: randn(m, heads * hd), k: randn(t, kvHeads * hd), v: randn(t, kvHeads * hd) };
}

describe('cpu-wasm attention', () => {
  const backends: Backend[] = [];
  const make = (threads: number) => {
    const b = createCpuWasmBackend({ threads, minParallelWork: 0 });
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
    const x = inputs(5, 33, 6, 2, 40);
    const attrs = { numHeads: 6, numKvHeads: 2, headDim: 40, qPos0: 28 };
    const one = await make(1).run('attention', x, attrs);
    const two = await make(2).run('attention', x, attrs);
    expect(Array.from(two.data)).toEqual(Array.from(one.data));
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
  });
});
