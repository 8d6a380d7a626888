import { describe, expect, it } from 'vitest';
import { roundHalfEven } from './round';

describe('roundHalfEven', () => {
  it('rounds halves to the even neighbour, like torch.round / np.round', () => {
    const table: [number, number][] = [
      [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [-7.5, -8], [7.5, 8],
      [0.49999999999999994, 0], [2.5000000000000004, 3], [-2.4999999999999996, -2], [1e16, 1e16], [-3, -3], [0, 0],
    ];
    for (const [x, want] of table) expect(roundHalfEven(x) === want || (want === 0 && roundHalfEven(x) === 0), `${x}`).toBe(true);
  });
  it('differs from Math.round exactly on the negative and even-based halves', () => {
    expect(Math.round(-7.5)).toBe(-7);
    expect(roundHalfEven(-7.5)).toBe(-8);
    expect(Math.round(2.5)).toBe(3);
    expect(roundHalfEven(2.5)).toBe(2);
  });
});
