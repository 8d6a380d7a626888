/**
 * Level ladders of a plan: what each level does to a unit (a recipe override)
 * and what it costs, in exact integers so budgets are preserved exactly.
 *
 * - `sparsity:20-80:5` (or `sparsity:0,30,50,70`): unstructured sparsity in
 *   percent; cost = params × (100 − percent) / step-unit, i.e. kept weights in
 *   nominal units (an integer: params × remaining percent).
 * - `nm:dense,4:8,2:4,1:4`: N:M patterns; cost = params × N/M in units of
 *   1/lcm(M) (an integer).
 * - `bits:2,3,4,8` (or with `16` = dense): quantization bit-widths; cost =
 *   exact stored bits of the unit from the level's container accounting.
 */
import { recipePattern } from '@sparq/compress';
import { SparqError } from '@sparq/tensor';

/** One rung of a ladder. */
export interface Level {
  /** Label shown in plans and reports (`50%`, `2:4`, `w3`, `dense`). */
  label: string;
  /** True for the uncompressed level (the source weights). */
  dense: boolean;
  /** Sparsity pattern text for prune levels (`'50%'`, `'2:4'`). */
  pattern?: string;
  /** Bits for quantization levels. */
  bits?: 2 | 3 | 4 | 8;
  /** Nominal fraction of weights pruned (0 for quantization levels). */
  sparsity: number;
}

/** A parsed ladder. */
export interface Ladder {
  kind: 'sparsity' | 'nm' | 'bits';
  spec: string;
  levels: Level[];
}

function bad(spec: string, why: string): never {
  throw new SparqError('E_ARG', `invalid ladder "${spec}": ${why}`, {
    details: { found: spec },
    hint: 'e.g. sparsity:20-80:5, sparsity:0,30,50,70, nm:dense,4:8,2:4,1:4, bits:2,3,4,8,16',
  });
}

/** Parses a ladder spec (see the module comment). Levels are ordered from least to most compressed. */
export function parseLadder(spec: string): Ladder {
  const [kind, body] = spec.split(':', 2) as [string, string | undefined];
  const rest = spec.slice(kind.length + 1);
  if (!body) bad(spec, 'expected <kind>:<levels>');
  if (kind === 'sparsity') {
    let pcts: number[];
    const range = /^(\d+)-(\d+):(\d+)$/.exec(rest);
    if (range) {
      const [lo, hi, step] = [Number(range[1]), Number(range[2]), Number(range[3])];
      if (!(step > 0 && lo <= hi)) bad(spec, 'range must be lo-hi:step with lo ≤ hi and step > 0');
      pcts = [];
      for (let p = lo; p <= hi; p += step) pcts.push(p);
    } else pcts = rest.split(',').map(Number);
    if (pcts.some((p) => !Number.isInteger(p) || p < 0 || p >= 100)) bad(spec, 'sparsity levels are integer percents in [0, 100)');
    pcts = [...new Set(pcts)].sort((a, b) => a - b);
    if (pcts.length < 2) bad(spec, 'a ladder needs at least 2 levels');
    return { kind: 'sparsity', spec, levels: pcts.map((p) => ({ label: `${p}%`, dense: p === 0, ...(p === 0 ? {} : { pattern: `${p}%` }), sparsity: p / 100 })) };
  }
  if (kind === 'nm') {
    const levels = rest.split(',').map((t): Level => {
      if (t === 'dense') return { label: 'dense', dense: true, sparsity: 0 };
      // The recipe's own pattern parser decides what an N:M level is, so ladders and recipes agree.
      let p;
      try {
        p = recipePattern(t);
      } catch (e) {
        bad(spec, `"${t}": ${(e as Error).message}`);
      }
      if (p.kind !== 'nm') bad(spec, `"${t}" is not N:M or dense`);
      return { label: t, dense: false, pattern: t, sparsity: 1 - p.n / p.m };
    });
    levels.sort((a, b) => a.sparsity - b.sparsity);
    if (levels.length < 2) bad(spec, 'a ladder needs at least 2 levels');
    return { kind: 'nm', spec, levels };
  }
  if (kind === 'bits') {
    const bs = [...new Set(rest.split(',').map(Number))];
    if (bs.some((b) => ![2, 3, 4, 8, 16].includes(b))) bad(spec, 'bit-widths are 2, 3, 4, 8 (and 16 = dense)');
    bs.sort((a, b) => b - a);
    if (bs.length < 2) bad(spec, 'a ladder needs at least 2 levels');
    return {
      kind: 'bits',
      spec,
      levels: bs.map((b) => (b === 16 ? { label: 'dense', dense: true, sparsity: 0 } : { label: `w${b}`, dense: false, bits: b as 2 | 3 | 4 | 8, sparsity: 0 })),
    };
  }
  return bad(spec, `unknown kind "${kind}" (sparsity, nm or bits)`);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Exact integer cost of a unit of `params` weights at each level of a
 * sparsity or N:M ladder: kept weights in units of 1/scale, where `scale`
 * makes every level's keep fraction integral (100 for percents, lcm of the
 * M's for N:M). Bits ladders take their costs from the container accounting.
 */
export function keptCosts(ladder: Ladder, params: number): number[] {
  if (ladder.kind === 'sparsity') return ladder.levels.map((l) => params * Math.round(100 - 100 * l.sparsity));
  if (ladder.kind === 'nm') {
    const ms = ladder.levels.filter((l) => !l.dense).map((l) => Number(l.pattern!.split(':')[1]));
    const lcm = ms.reduce((a, b) => (a * b) / gcd(a, b), 1);
    return ladder.levels.map((l) => {
      if (l.dense) return params * lcm;
      const [n, m] = l.pattern!.split(':').map(Number) as [number, number];
      return (params * n * lcm) / m;
    });
  }
  throw new SparqError('E_INTERNAL', 'keptCosts: bits ladders are costed from the container accounting');
}
