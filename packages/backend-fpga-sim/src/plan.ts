/**
 * Compression plans for model-level runs: a JSON file mapping layer-name
 * patterns to a sparsity pattern and a weight width (documented in
 * docs/fpga.md, "Plan files"). First matching rule wins; `*` matches any run
 * of characters (dots included).
 */
import { SparqError } from '@sparq/tensor';
import { readJsonFile } from './config-file';
import { DENSE, type SparsityPattern, parsePattern, patternName } from './mapping';

/** What one layer runs as. */
export interface LayerChoice {
  readonly pattern: SparsityPattern;
  /** Weight code bits (2, 3, 4 or 8). */
  readonly bits: number;
}

/** One rule of a plan. */
export interface PlanRule extends LayerChoice {
  /** Glob over layer names, e.g. `*.mlp.*` or `model.layers.0.self_attn.q_proj`. */
  readonly match: string;
}

/** A compression plan. */
export interface CompressionPlan {
  readonly name: string;
  /** Applies to layers no rule matches. */
  readonly default: LayerChoice;
  readonly rules: readonly PlanRule[];
  /** Quantization group length along k (one f16 scale per group), 0 = per-channel scales only counted once per row. */
  readonly quantGroupSize: number;
}

const BITS = [2, 3, 4, 8];

/** A plan applying one pattern and width to every weight layer. */
export function uniformPlan(pattern: SparsityPattern, bits: number, quantGroupSize = 128): CompressionPlan {
  return { name: `${patternName(pattern)}/int${bits}`, default: { pattern, bits }, rules: [], quantGroupSize };
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`);
}

/** The choice for `layerName` under `plan`. */
export function choiceFor(plan: CompressionPlan, layerName: string): LayerChoice {
  for (const r of plan.rules) if (globToRegExp(r.match).test(layerName)) return r;
  return plan.default;
}

/** Validates a parsed plan object; `where` names the file in errors. */
export function parsePlan(json: unknown, where = 'plan'): CompressionPlan {
  const bad = (field: string, expected: string, found: unknown) =>
    new SparqError('E_CONFIG', `${where}: ${field} must be ${expected}, found ${JSON.stringify(found)}`, {
      details: { file: where, expected, found },
      hint: 'see docs/fpga.md, "Plan files"',
    });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the plan', 'a JSON object', json);
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['name', 'default', 'rules', 'quantGroupSize'].includes(k)) throw bad(`key "${k}"`, 'name, default, rules or quantGroupSize', k);
  const choice = (field: string, v: unknown): LayerChoice => {
    if (typeof v !== 'object' || v === null) throw bad(field, 'an object { pattern, bits }', v);
    const c = v as Record<string, unknown>;
    const pattern = c.pattern === undefined ? DENSE : typeof c.pattern === 'string' ? parsePattern(c.pattern) : undefined;
    if (!pattern) throw bad(`${field}.pattern`, 'a string like "2:4" or "dense"', c.pattern);
    const bits = c.bits ?? 8;
    if (typeof bits !== 'number' || !BITS.includes(bits)) throw bad(`${field}.bits`, 'one of 2, 3, 4, 8', bits);
    return { pattern, bits };
  };
  const def = o.default === undefined ? { pattern: DENSE, bits: 8 } : choice('default', o.default);
  if (o.rules !== undefined && !Array.isArray(o.rules)) throw bad('rules', 'an array', o.rules);
  const rules = ((o.rules as unknown[] | undefined) ?? []).map((r, i) => {
    const c = choice(`rules[${i}]`, r);
    const match = (r as Record<string, unknown>).match;
    if (typeof match !== 'string' || match === '') throw bad(`rules[${i}].match`, 'a non-empty glob string', match);
    return { match, ...c };
  });
  const q = o.quantGroupSize ?? 128;
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 0) throw bad('quantGroupSize', 'an integer ≥ 0', q);
  return { name: typeof o.name === 'string' ? o.name : where, default: def, rules, quantGroupSize: q };
}

/** Reads and validates a plan file. */
export function readPlanFile(file: string): CompressionPlan {
  return parsePlan(readJsonFile(file, 'plan file'), file);
}
