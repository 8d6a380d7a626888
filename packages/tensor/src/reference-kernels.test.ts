import { describe, expect, it } from 'vitest';
import { MODEL_KERNELS } from './backend';
import { isSparqError } from './errors';
import { attentionRef, createReferenceBackend, rmsNormRef, ropeRef, siluMulRef } from './reference-kernels';
import { Tensor } from './tensor';

const f32 = (shape: number[], v: number[]) => Tensor.f32(shape, v);
const close = (out: Tensor<'f32'>, want: number[]) => {
  expect(out.data.length).toBe(want.length);
  // f32 outputs: within a few f32 ulps of the float64 hand computation
  want.forEach((w, i) => expect(Math.abs(out.data[i]! - w)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w))));
};

describe('rmsNormRef', () => {
  it('divides by the root mean square plus eps and scales by the weight (hand-computed)', () => {
    // row [3, 4]: mean square 12.5; row [1, 1]: mean square 1, eps 0.25 → /sqrt(1.25)
    const out = rmsNormRef({ x: f32([2, 2], [3, 4, 1, 1]), weight: f32([2], [1, 2]) }, { eps: 0.25 });
    const a = 1 / Math.sqrt(12.5 + 0.25);
    const b = 1 / Math.sqrt(1.25);
    close(out, [3 * a, 8 * a, b, 2 * b]);
    expect([...out.shape]).toEqual([2, 2]);
  });
  it('rejects a weight of the wrong length', () => {
    expect(() => rmsNormRef({ x: f32([1, 2], [1, 2]), weight: f32([3], [1, 1, 1]) }, { eps: 0 })).toThrow(/weight has 3/);
  });
});

describe('ropeRef', () => {
  it('is the identity at position 0 and rotates (x_i, x_{i+half}) by p·invFreq_i', () => {
    // headDim 4, two heads, invFreq [1, 0.5]; row 0 at position 0, row 1 at position 2
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = ropeRef(
      { x: f32([2, 4], [...x.slice(0, 4), ...x.slice(0, 4)]), positions: new Tensor('i32', [2], Int32Array.from([0, 2])), invFreq: new Tensor('f64', [2], Float64Array.from([1, 0.5])) },
      { headDim: 4 },
    );
    const rot = (x1: number, x2: number, a: number) => [x1 * Math.cos(a) - x2 * Math.sin(a), x2 * Math.cos(a) + x1 * Math.sin(a)];
    const [o0, o2] = rot(1, 3, 2);
    const [o1, o3] = rot(2, 4, 1);
    close(out, [1, 2, 3, 4, o0!, o1!, o2!, o3!]);
  });
  it('rotates every head of a row the same way', () => {
    const out = ropeRef(
      { x: f32([1, 4], [1, 0, 1, 0]), positions: new Tensor('i32', [1], Int32Array.from([1])), invFreq: new Tensor('f64', [1], Float64Array.from([Math.PI / 2])) },
      { headDim: 2 },
    );
    close(out, [0, 1, 0, 1]);
  });
  it('rejects an odd headDim and a width that is not a multiple of it', () => {
    const inv = new Tensor('f64', [1], Float64Array.from([1]));
    const pos = new Tensor('i32', [1], Int32Array.from([0]));
    expect(() => ropeRef({ x: f32([1, 3], [1, 2, 3]), positions: pos, invFreq: inv }, { headDim: 2 })).toThrow(/multiple of headDim/);
    expect(() => ropeRef({ x: f32([1, 3], [1, 2, 3]), positions: pos, invFreq: inv }, { headDim: 3 })).toThrow(/even/);
  });
});

describe('attentionRef', () => {
  it('returns the only visible value for the first position (causal)', () => {
    const q = f32([2, 2], [1, 0, 0, 1]);
    const k = f32([2, 2], [1, 0, 0, 1]);
    const v = f32([2, 2], [10, 20, 30, 40]);
    const out = attentionRef({ q, k, v }, { numHeads: 1, numKvHeads: 1, headDim: 2, qPos0: 0 });
    // row 0 sees only key 0 → v0; row 1 sees keys 0 and 1 with scores 0 and 1/√2
    const p1 = Math.exp(1 / Math.SQRT2) / (1 + Math.exp(1 / Math.SQRT2));
    close(out, [10, 20, 10 * (1 - p1) + 30 * p1, 20 * (1 - p1) + 40 * p1]);
  });
  it('maps query heads to KV heads in groups (GQA) and respects the sliding window', () => {
    // 2 query heads, 1 KV head, headDim 1, zero queries → uniform weights over visible keys
    const q = f32([1, 2], [0, 0]);
    const k = f32([3, 1], [1, 2, 3]);
    const v = f32([3, 1], [3, 6, 9]);
    close(attentionRef({ q, k, v }, { numHeads: 2, numKvHeads: 1, headDim: 1, qPos0: 2 }), [6, 6]);
    close(attentionRef({ q, k, v }, { numHeads: 2, numKvHeads: 1, headDim: 1, qPos0: 2, slidingWindow: 2 }), [7.5, 7.5]);
    // 2 query heads, 2 KV heads: head h reads KV head h
    const k2 = f32([1, 2], [0, 0]);
    const v2 = f32([1, 2], [5, 7]);
    close(attentionRef({ q, k: k2, v: v2 }, { numHeads: 2, numKvHeads: 2, headDim: 1, qPos0: 0 }), [5, 7]);
  });
  it('rejects queries past the end of the cache', () => {
    const t = f32([1, 1], [1]);
    expect(() => attentionRef({ q: t, k: t, v: t }, { numHeads: 1, numKvHeads: 1, headDim: 1, qPos0: 1 })).toThrow(/qPos0 \+ m ≤ t/);
  });
});

describe('siluMulRef', () => {
  it('computes x / (1 + e^-x) · up', () => {
    const out = siluMulRef({ gate: f32([1, 3], [0, 1, -2]), up: f32([1, 3], [5, 2, 3]) });
    close(out, [0, (2 * 1) / (1 + Math.exp(-1)), (3 * -2) / (1 + Math.exp(2))]);
  });
  it('rejects mismatched shapes', () => {
    try {
      siluMulRef({ gate: f32([1, 2], [0, 1]), up: f32([2, 1], [0, 1]) });
      expect.unreachable();
    } catch (e) {
      expect(isSparqError(e) && e.code).toBe('E_SHAPE_MISMATCH');
    }
  });
});

describe('reference backend', () => {
  it('supports every model kernel', () => {
    const b = createReferenceBackend();
    const t = f32([1, 2], [1, 2]);
    for (const k of MODEL_KERNELS) expect(b.supports(k, {} as never, {} as never), k).toBe(true);
    expect(b.supports('siluMul', { gate: t, up: t }, {})).toBe(true);
  });
});
