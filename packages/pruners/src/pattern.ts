/**
 * Sparsity patterns: what fraction (or which N:M structure) a pruner targets,
 * how users spell it on the command line, per-layer overrides, and the
 * verification every produced mask goes through.
 */
import { SparqError } from '@sparq/tensor';

/**
 * The target of a pruner.
 * - `unstructured`: `sparsity` is the fraction of weights pruned, in `[0, 1)`.
 * - `nm`: `n` weights KEPT in every group of `m` consecutive input columns
 *   (`1 ≤ n < m ≤ 16`), e.g. 2:4 keeps 2 of every 4.
 */
export type SparsityPattern = { kind: 'unstructured'; sparsity: number } | { kind: 'nm'; n: number; m: number };

/** Largest group size M accepted for N:M patterns (the packed format stores in-group indices in 4 bits). */
export const MAX_NM_GROUP = 16;

/**
 * Checks a pattern's numbers and returns it; throws `E_ARG` naming the bad
 * field. `what` names where the pattern came from (flag, layer) in messages.
 */
export function checkPattern(p: SparsityPattern, what = 'sparsity pattern'): SparsityPattern {
  if (p.kind === 'unstructured') {
    if (!(Number.isFinite(p.sparsity) && p.sparsity >= 0 && p.sparsity < 1)) {
      throw new SparqError('E_ARG', `${what}: unstructured sparsity must be in [0, 1), found ${p.sparsity}`, {
        details: { expected: '0 ≤ sparsity < 1', found: p.sparsity },
        hint: 'give the fraction pruned, e.g. 0.5 or 50%',
      });
    }
    return p;
  }
  if (p.kind === 'nm') {
    const { n, m } = p;
    if (!(Number.isInteger(n) && Number.isInteger(m) && n >= 1 && n < m && m <= MAX_NM_GROUP)) {
      throw new SparqError('E_ARG', `${what}: N:M pattern needs integers 1 ≤ N < M ≤ ${MAX_NM_GROUP}, found ${n}:${m}`, {
        details: { expected: `1 ≤ N < M ≤ ${MAX_NM_GROUP}`, found: `${n}:${m}` },
        hint: 'N is the number of weights KEPT per group of M, e.g. 2:4',
      });
    }
    return p;
  }
  throw new SparqError('E_ARG', `${what}: unknown pattern kind ${JSON.stringify((p as { kind: unknown }).kind)}`, {
    details: { expected: "'unstructured' | 'nm'", found: (p as { kind: unknown }).kind },
  });
}

/**
 * Parses a pattern as users write it: `'50%'`, `'0.5'` (fraction pruned),
 * `'2:4'`, `'4:8'`, `'1:4'`, `'8:16'` (N kept of M), `'dense'` (= 0 %
 * unstructured, i.e. nothing pruned). Throws `E_ARG` with the accepted forms.
 * @example parsePattern('2:4') // { kind: 'nm', n: 2, m: 4 }
 */
export function parsePattern(s: string): SparsityPattern {
  const t = String(s).trim().toLowerCase();
  const bad = (why: string): never => {
    throw new SparqError('E_ARG', `invalid sparsity pattern ${JSON.stringify(s)}: ${why}`, {
      details: { expected: "'50%', '0.5', 'N:M' (e.g. '2:4') or 'dense'", found: s },
      hint: "unstructured: the fraction pruned ('0.5' or '50%'); N:M: N kept of every M ('2:4', '4:8')",
    });
  };
  if (t === 'dense') return { kind: 'unstructured', sparsity: 0 };
  const nm = /^(\d+)\s*:\s*(\d+)$/.exec(t);
  if (nm) {
    const n = Number(nm[1]);
    const m = Number(nm[2]);
    if (!(n >= 1 && n < m && m <= MAX_NM_GROUP)) bad(`N:M needs 1 ≤ N < M ≤ ${MAX_NM_GROUP}`);
    return { kind: 'nm', n, m };
  }
  const pct = /^([0-9]*\.?[0-9]+)\s*%$/.exec(t);
  const frac = /^([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)$/.exec(t);
  if (!pct && !frac) bad('not a fraction, a percentage or N:M');
  const v = pct ? Number(shiftDecimal(pct[1]!, -2)) : Number(frac![1]);
  if (!(v >= 0 && v < 1)) bad(`the fraction pruned must be in [0, 1), found ${v}`);
  return { kind: 'unstructured', sparsity: v };
}

/**
 * Moves the decimal point of a plain decimal string (`/\d*\.?\d+/`) by
 * `places` (negative: left), on the digits, so that `'12.3'` → `'0.123'`
 * without the float error of `12.3 / 100`.
 */
function shiftDecimal(s: string, places: number): string {
  const [ip = '', fp = ''] = s.split('.');
  let digits = ip + fp;
  let point = ip.length + places;
  if (point < 1) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  }
  if (point > digits.length) digits = digits.padEnd(point, '0');
  const out = `${digits.slice(0, point)}.${digits.slice(point)}`.replace(/^0+(?=\d)/, '').replace(/\.?0*$/, '');
  return out === '' ? '0' : out;
}

/**
 * The canonical text of a pattern: `'2:4'`, `'50%'`, `'dense'`. Round-trips
 * exactly through {@link parsePattern}: the percentage is the shortest decimal
 * of the fraction with its point moved, not a float product.
 */
export function formatPattern(p: SparsityPattern): string {
  if (p.kind === 'nm') return `${p.n}:${p.m}`;
  if (p.sparsity === 0) return 'dense';
  const dec = String(p.sparsity);
  return /^\d*\.?\d+$/.test(dec) ? `${shiftDecimal(dec, 2)}%` : dec;
}

/**
 * Number of weights an unstructured pattern prunes out of `count`:
 * `floor(sparsity · count)` — the convention of the reference code
 * (`int(numel · sparsity)`), including its float64 product.
 */
export function unstructuredTarget(sparsity: number, count: number): number {
  return Math.floor(sparsity * count);
}

/** One per-layer override: layers whose name matches get `pattern`. */
export interface PatternOverride {
  /** A RegExp tested against the layer name, or a string: exact name, or a glob where `*` matches any run of characters. */
  match: string | RegExp;
  pattern: SparsityPattern;
}

/** A default pattern plus per-layer overrides; the first matching override wins. */
export interface PatternPlan {
  default: SparsityPattern;
  overrides?: PatternOverride[];
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`);
}

/**
 * The pattern for one layer: the first override whose `match` matches
 * `layerName` (RegExp: `test`; string: exact or `*`-glob, e.g.
 * `'layers.*.mlp.down_proj'`), else the default. The result is validated.
 * @example resolvePattern('layers.0.attn.wq', { default: parsePattern('2:4'), overrides: [{ match: /attn/, pattern: parsePattern('50%') }] })
 */
export function resolvePattern(layerName: string, plan: PatternPlan): SparsityPattern {
  for (const o of plan.overrides ?? []) {
    const hit = o.match instanceof RegExp ? (o.match.lastIndex = 0, o.match.test(layerName)) : o.match.includes('*') ? globToRegExp(o.match).test(layerName) : o.match === layerName;
    if (hit) return checkPattern(o.pattern, `override ${String(o.match)} for layer ${layerName}`);
  }
  return checkPattern(plan.default, `default pattern for layer ${layerName}`);
}

/** Options of {@link verifyPattern}. */
export interface VerifyPatternOptions {
  /**
   * For unstructured patterns: `'exact'` (default) requires exactly
   * `floor(sparsity · rows · cols)` pruned entries; `'reference'` (the
   * reference-code `≤ threshold` rule, which prunes ties too) requires at least that many.
   */
  tieRule?: 'exact' | 'reference';
  /** Tensor / layer name for error messages. */
  tensor?: string;
}

/**
 * Checks that a mask (`rows × cols`, 1 = pruned) satisfies `pattern`:
 * N:M — at most N kept (mask 0) in every row's group of M consecutive columns
 * starting at a multiple of M (`cols` must be a multiple of M); unstructured —
 * the pruned count (see {@link VerifyPatternOptions.tieRule}). Throws
 * `E_SHAPE_MISMATCH` for a wrong size and `E_ARG` naming the first bad row/group.
 */
export function verifyPattern(mask: Uint8Array, rows: number, cols: number, pattern: SparsityPattern, opts: VerifyPatternOptions = {}): void {
  const name = opts.tensor ? `mask of ${opts.tensor}` : 'mask';
  checkPattern(pattern);
  if (mask.length !== rows * cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `${name}: expected ${rows}×${cols} = ${rows * cols} entries, found ${mask.length}`, {
      details: { tensor: opts.tensor, expected: rows * cols, found: mask.length },
    });
  }
  if (pattern.kind === 'unstructured') {
    let count = 0;
    for (let i = 0; i < mask.length; i++) count += mask[i] !== 0 ? 1 : 0;
    const target = unstructuredTarget(pattern.sparsity, rows * cols);
    const ok = (opts.tieRule ?? 'exact') === 'exact' ? count === target : count >= target;
    if (!ok) {
      throw new SparqError('E_ARG', `${name}: ${formatPattern(pattern)} of ${rows}×${cols} must prune ${opts.tieRule === 'reference' ? 'at least ' : ''}${target} entries, found ${count}`, {
        details: { tensor: opts.tensor, expected: target, found: count },
      });
    }
    return;
  }
  const { n, m } = pattern;
  if (cols % m !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${name}: ${n}:${m} needs a column count divisible by ${m}, found ${cols}`, {
      details: { tensor: opts.tensor, expected: `multiple of ${m}`, found: cols },
    });
  }
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let g = 0; g < cols; g += m) {
      let kept = 0;
      for (let j = 0; j < m; j++) kept += mask[base + g + j] === 0 ? 1 : 0;
      if (kept > n) {
        throw new SparqError('E_ARG', `${name}: row ${r}, columns ${g}..${g + m - 1} keep ${kept} weights; ${n}:${m} allows at most ${n}`, {
          details: { tensor: opts.tensor, expected: `≤ ${n} kept per group of ${m}`, found: { row: r, group: g / m, kept } },
        });
      }
    }
  }
}
