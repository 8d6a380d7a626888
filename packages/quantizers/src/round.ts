/**
 * Round half to even (`torch.round` / `np.round`), the rounding every
 * reference quantizer uses. JavaScript's `Math.round` rounds halves up
 * (−7.5 → −7), which flips codes exactly where symmetric grids tie.
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  // Exact: x − floor(x) is representable for every finite double.
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
