import { expect, it } from 'vitest';
import { activate } from './block';

it('computes silu, relu, exact gelu and tanh gelu', () => {
  const x = () => Float32Array.from([-3, -0.5, 0, 0.5, 3]);
  const silu = x();
  activate(silu, 'silu');
  expect(silu[4]).toBeCloseTo(3 / (1 + Math.exp(-3)), 6);
  const relu = x();
  activate(relu, 'relu');
  expect(Array.from(relu)).toEqual([0, 0, 0, 0.5, 3]);
  const gelu = x();
  activate(gelu, 'gelu');
  // 0.5·x·(1 + erf(x/√2)) with erf(3/√2) = 0.9973002039367398, erf(0.5/√2) = 0.3829249225480262.
  expect(gelu[4]).toBeCloseTo(0.5 * 3 * (1 + 0.9973002039367398), 6);
  expect(gelu[1]).toBeCloseTo(0.5 * -0.5 * (1 - 0.3829249225480262), 6);
  const tanh = x();
  activate(tanh, 'gelu_new');
  expect(tanh[3]).toBeCloseTo(0.5 * 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (0.5 + 0.044715 * 0.125))), 6);
});
