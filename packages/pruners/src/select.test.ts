import { describe, expect, it } from 'vitest';
import { createRng } from '@sparq/tensor';
import { kthSmallest, pruneLowest } from './select';

describe('kthSmallest', () => {
  it('equals sorted(a)[k] on random, sorted, reversed, constant and heavily tied inputs', () => {
    const rng = createRng(8);
    const inputs: number[][] = [];
    for (const n of [1, 2, 3, 15, 16, 17, 100, 1000]) {
      inputs.push(Array.from({ length: n }, () => rng.normal()));
      inputs.push(Array.from({ length: n }, (_, i) => i));
      inputs.push(Array.from({ length: n }, (_, i) => n - i));
      inputs.push(Array.from({ length: n }, () => 7));
      inputs.push(Array.from({ length: n }, () => rng.int(3)));
    }
    for (const v of inputs) {
      const sorted = [...v].sort((a, b) => a - b);
      for (const k of new Set([0, v.length >> 1, v.length - 1, Math.floor(v.length / 3)])) {
        expect(kthSmallest(Float64Array.from(v), k)).toBe(sorted[k]);
      }
    }
  });
});

describe('pruneLowest', () => {
  it("'exact' marks exactly k, ties to the lower index; 'reference' marks every s ≤ sorted[k]", () => {
    const s = Float64Array.of(3, 1, 2, 1, 0, 2, 1);
    const m = new Uint8Array(7);
    expect(pruneLowest(s, 3, m, 'exact')).toBe(3);
    expect(Array.from(m)).toEqual([0, 1, 0, 1, 1, 0, 0]);
    const r = new Uint8Array(7);
    expect(pruneLowest(s, 3, r, 'reference')).toBe(4); // sorted[3] = 1: all three 1s and the 0
    expect(Array.from(r)).toEqual([0, 1, 0, 1, 1, 0, 1]);
    const z = new Uint8Array(7);
    expect(pruneLowest(s, 0, z, 'exact')).toBe(0);
    expect(Array.from(z)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});
