import { describe, expect, it } from 'vitest';
import { isSparqError } from '@sparq/tensor';
import { formatPattern, parsePattern, resolvePattern, verifyPattern, type SparsityPattern } from './pattern';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSparqError(e) ? e.code : `not a SparqError: ${String(e)}`;
  }
  return undefined;
}

describe('parsePattern / formatPattern', () => {
  it('parses the documented spellings', () => {
    expect(parsePattern('50%')).toEqual({ kind: 'unstructured', sparsity: 0.5 });
    expect(parsePattern('0.5')).toEqual({ kind: 'unstructured', sparsity: 0.5 });
    expect(parsePattern(' 62.5 % ')).toEqual({ kind: 'unstructured', sparsity: 0.625 });
    expect(parsePattern('2:4')).toEqual({ kind: 'nm', n: 2, m: 4 });
    expect(parsePattern('4:8')).toEqual({ kind: 'nm', n: 4, m: 8 });
    expect(parsePattern('1:4')).toEqual({ kind: 'nm', n: 1, m: 4 });
    expect(parsePattern('8:16')).toEqual({ kind: 'nm', n: 8, m: 16 });
    expect(parsePattern('dense')).toEqual({ kind: 'unstructured', sparsity: 0 });
  });

  it('rejects bad input with E_ARG', () => {
    for (const s of ['', 'half', '4:2', '2:2', '0:4', '8:32', '1', '100%', '-0.1', '1.5', '2:4:8', '50%%']) {
      expect(codeOf(() => parsePattern(s)), s).toBe('E_ARG');
    }
  });

  it('round-trips', () => {
    const ps: SparsityPattern[] = [
      { kind: 'unstructured', sparsity: 0 },
      { kind: 'unstructured', sparsity: 0.5 },
      { kind: 'unstructured', sparsity: 0.7 },
      { kind: 'unstructured', sparsity: 0.123 },
      { kind: 'unstructured', sparsity: 1e-7 },
      { kind: 'unstructured', sparsity: 0.999 },
      { kind: 'nm', n: 2, m: 4 },
      { kind: 'nm', n: 8, m: 16 },
    ];
    for (const p of ps) expect(parsePattern(formatPattern(p))).toEqual(p);
    expect(formatPattern({ kind: 'unstructured', sparsity: 0.5 })).toBe('50%');
    expect(formatPattern({ kind: 'nm', n: 2, m: 4 })).toBe('2:4');
  });
});

describe('resolvePattern', () => {
  const plan = {
    default: parsePattern('2:4'),
    overrides: [
      { match: 'layers.0.attention.wq', pattern: parsePattern('dense') },
      { match: /attention\.w[kv]$/, pattern: parsePattern('50%') },
      { match: 'layers.*.feed_forward.w2', pattern: parsePattern('4:8') },
    ],
  };
  it('first matching override wins, else the default', () => {
    expect(resolvePattern('layers.0.attention.wq', plan)).toEqual(parsePattern('dense'));
    expect(resolvePattern('layers.1.attention.wq', plan)).toEqual(parsePattern('2:4'));
    expect(resolvePattern('layers.3.attention.wk', plan)).toEqual(parsePattern('50%'));
    expect(resolvePattern('layers.3.feed_forward.w2', plan)).toEqual(parsePattern('4:8'));
    expect(resolvePattern('layers.3.feed_forward.w2.bias', plan)).toEqual(parsePattern('2:4'));
  });
  it('validates the chosen pattern', () => {
    expect(codeOf(() => resolvePattern('x', { default: { kind: 'nm', n: 4, m: 4 } }))).toBe('E_ARG');
    expect(codeOf(() => resolvePattern('x', { default: parsePattern('2:4'), overrides: [{ match: 'x', pattern: { kind: 'unstructured', sparsity: 1 } }] }))).toBe('E_ARG');
  });
  it('a global RegExp matches every time', () => {
    const p = { default: parsePattern('2:4'), overrides: [{ match: /wq/g, pattern: parsePattern('dense') }] };
    expect(resolvePattern('a.wq', p)).toEqual(parsePattern('dense'));
    expect(resolvePattern('b.wq', p)).toEqual(parsePattern('dense'));
  });
});

describe('verifyPattern', () => {
  it('accepts valid N:M masks and names the first bad row/group', () => {
    const rows = 3;
    const cols = 8;
    const mask = new Uint8Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c += 4) (mask[r * cols + c] = 1), (mask[r * cols + c + 2] = 1);
    verifyPattern(mask, rows, cols, parsePattern('2:4'));
    verifyPattern(mask, rows, cols, parsePattern('3:4')); // at most N kept
    mask[2 * cols + 6] = 0;
    let err: unknown;
    try {
      verifyPattern(mask, rows, cols, parsePattern('2:4'), { tensor: 'wq' });
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_ARG');
    expect((err as Error).message).toMatch(/mask of wq: row 2, columns 4\.\.7 keep 3/);
    expect(codeOf(() => verifyPattern(mask, rows, cols, parsePattern('1:4')))).toBe('E_ARG');
    expect(codeOf(() => verifyPattern(mask, rows, 6, parsePattern('2:4')))).toBe('E_SHAPE_MISMATCH');
    expect(codeOf(() => verifyPattern(mask, 3, 6, parsePattern('2:3')))).toBe('E_SHAPE_MISMATCH');
  });
  it('checks unstructured counts exactly, or as a lower bound for the reference rule', () => {
    const mask = new Uint8Array(10);
    mask.fill(1, 0, 3);
    verifyPattern(mask, 2, 5, parsePattern('0.3'));
    expect(codeOf(() => verifyPattern(mask, 2, 5, parsePattern('0.25')))).toBe('E_ARG'); // floor(2.5) = 2 ≠ 3
    verifyPattern(mask, 2, 5, parsePattern('0.25'), { tieRule: 'reference' });
    expect(codeOf(() => verifyPattern(mask, 2, 5, parsePattern('0.4'), { tieRule: 'reference' }))).toBe('E_ARG');
  });
});
