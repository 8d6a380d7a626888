/** Shape checks shared by the pruners. */
import { SparqError } from '@sparq/tensor';
import { checkPattern, formatPattern, type SparsityPattern } from './pattern';

/** Validates `pattern` and, for N:M, that `cols` is a multiple of M. Throws `E_ARG` / `E_SHAPE_MISMATCH`. */
export function checkPatternFor(pattern: SparsityPattern, cols: number, what: string): void {
  checkPattern(pattern, what);
  if (pattern.kind === 'nm' && cols % pattern.m !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: ${formatPattern(pattern)} needs an input dimension divisible by ${pattern.m}, found ${cols} columns`, {
      details: { expected: `cols multiple of ${pattern.m}`, found: cols },
      hint: 'use an unstructured pattern or a smaller M for this layer (per-layer overrides)',
    });
  }
}
