import { describe, expect, it } from 'vitest';
import { Rng, createRng } from './rng';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference C implementation (Blackman & Vigna) from a raw state', () => {
    // Printed by the authors' xoshiro128starstar.c compiled with gcc, states below.
    const a = Rng.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 8 }, () => a.nextU32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
    ]);
    const b = Rng.fromState(0xdeadbeef, 0x12345678, 0xcafebabe, 0x0badf00d);
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual([
      2576977301, 347642640, 2932269098, 1734644419, 3250013134, 1805960553, 2263909644, 119746310,
    ]);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const x = createRng(42);
    const y = createRng(42);
    const z = createRng(43);
    const xs = Array.from({ length: 100 }, () => x.float());
    expect(Array.from({ length: 100 }, () => y.float())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => z.float())).not.toEqual(xs);
  });

  it('produces uniform floats in [0, 1) and normals with the right moments', () => {
    const r = createRng(7);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = r.float();
      min = Math.min(min, u);
      max = Math.max(max, u);
      s += u;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    // Mean of U(0,1) is 1/2 with standard error 1/sqrt(12n) ≈ 6.5e-4.
    expect(Math.abs(s / n - 0.5)).toBeLessThan(4e-3);
    s = 0;
    for (let i = 0; i < n; i++) {
      const g = r.normal();
      s += g;
      s2 += g * g;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});
