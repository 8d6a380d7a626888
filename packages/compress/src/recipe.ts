/**
 * Compression recipes: a validated JSON/YAML document saying which solver
 * stages run on which linear layers, with per-layer overrides and the
 * calibration settings. Validation is strict (unknown keys and impossible
 * values are `E_CONFIG` naming the key path) because a typo that silently
 * falls back to a default would produce a model that looks fine and is not
 * what was asked for.
 *
 * Document shape (YAML shown; JSON is the same object):
 *
 * ```yaml
 * stages:
 *   - type: prune            # magnitude | wanda | sparsegpt
 *     method: sparsegpt
 *     pattern: "2:4"         # '50%' | '0.5' | 'N:M' (N kept of every M)
 *   - type: quantize         # rtn | gptq | spqr
 *     method: rtn
 *     bits: 4                # 2 | 3 | 4 | 8
 *     group: 32              # columns per group, -1 = per-channel
 * targets: ["*"]             # glob or /regex/ over HF linear names
 * ignore: ["*.mlp.down_proj"]
 * overrides:
 *   - match: "model.layers.0.*"
 *     pattern: "4:8"
 * calibration: { source: self, samples: 128, seqlen: 256, seed: 0 }
 * ```
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parsePattern, type SparsityPattern } from '@sparq/pruners';
import { SparqError, type PackedBits } from '@sparq/tensor';
import { compileNamePattern } from './name-match';

/** Pruning solvers. */
export type PruneMethod = 'magnitude' | 'wanda' | 'sparsegpt';
/** Quantization solvers. */
export type QuantMethod = 'rtn' | 'gptq' | 'spqr';
/** How unstructured masks break ties: `exact` counts, or the reference code's `≤ threshold` (one extra weight). */
export type TieRule = 'exact' | 'reference';

/** A pruning stage. */
export interface PruneStage {
  type: 'prune';
  method: PruneMethod;
  /** As written: `'50%'`, `'0.5'`, `'2:4'` (N kept of every M). */
  pattern: string;
  /** SparseGPT's column block (default 128). */
  blockSize: number;
  /** SparseGPT's dampening, a fraction of mean(diag H) (default 0.01). */
  percDamp: number;
  /** Unstructured tie rule (default `exact`). */
  tieRule: TieRule;
}

/** SpQR settings (used when `method` is `spqr`). */
export interface SpqrSettings {
  /** Relative error-reduction threshold above which a weight becomes an f16 outlier (default 0.2). */
  outlierThreshold: number;
  /** Bits of the second-level codes of scales and zeros (default 3). */
  statBits: PackedBits;
  /** Rows per second-level statistics group (default 16). */
  statGroupRows: number;
}

/** A quantization stage. */
export interface QuantizeStage {
  type: 'quantize';
  method: QuantMethod;
  bits: PackedBits;
  /** Columns per group; −1 = per-channel (one group per row). SpQR's first-level group (default 16 for spqr). */
  group: number;
  /** Symmetric grid (zero-point 2^(bits−1)); default false. */
  sym: boolean;
  /** GPTQ/SpQR: process columns by decreasing diag(H) (default false). */
  actOrder: boolean;
  /** GPTQ with act-order: group statistics fixed up front from the original column groups (default false). */
  staticGroups: boolean;
  /** RTN: search a clipping shrink factor per group minimising the squared error (default false). */
  clipSearch: boolean;
  /** GPTQ/SpQR column block (default 128). */
  blockSize: number;
  /** GPTQ/SpQR dampening (default 0.01). */
  percDamp: number;
  /** SpQR settings (method `spqr` only). */
  spqr?: SpqrSettings;
}

/** SparseGPT pruning with quantization inside the same OBS pass (the paper's joint mode). */
export interface JointStage {
  type: 'joint';
  pattern: string;
  bits: PackedBits;
  group: number;
  sym: boolean;
  blockSize: number;
  percDamp: number;
  tieRule: TieRule;
}

/** One recipe stage. */
export type Stage = PruneStage | QuantizeStage | JointStage;

/** Per-layer changes for the linears whose name matches `match`; later overrides win. */
export interface LayerOverride {
  match: string;
  /** Leave the matching linears dense and unquantized. */
  skip?: boolean;
  /** Replaces the prune/joint stage's pattern. */
  pattern?: string;
  /** Replaces the quantize/joint stage's bits. */
  bits?: PackedBits;
  /** Replaces the quantize/joint stage's group. */
  group?: number;
}

/** Where calibration sequences come from and how many. */
export interface CalibrationSettings {
  /** `'self'` (sampled from the dense model) or the path of a UTF-8 text file. */
  source: string;
  /** Number of sequences (default 128). */
  samples: number;
  /** Tokens per sequence; undefined = min(model context, 2048). */
  seqlen?: number;
  /** Seed of window offsets / self-generation (default 0). */
  seed: number;
  /** Sequences per block forward pass (bounds the attention scratch memory; default 8). */
  batchSize: number;
}

/** A validated recipe with every default filled in. */
export interface Recipe {
  version: 1;
  stages: Stage[];
  targets: string[];
  ignore: string[];
  overrides: LayerOverride[];
  calibration: CalibrationSettings;
}

/** Code widths the packed format supports (docs/format.md §1). */
export const RECIPE_BITS: readonly PackedBits[] = [2, 3, 4, 8];

const DEFAULT_CALIBRATION: CalibrationSettings = { source: 'self', samples: 128, seed: 0, batchSize: 8 };

type Obj = Record<string, unknown>;

function fail(path: string, message: string, expected: unknown, found: unknown, hint?: string): never {
  throw new SparqError('E_CONFIG', `recipe ${path}: ${message}`, {
    details: { expected, found },
    ...(hint ? { hint } : {}),
  });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      fail(`${path}${path ? '.' : ''}${k}`, 'unknown key', allowed, k, `valid keys${path ? ` of ${path}` : ''}: ${allowed.join(', ')}`);
    }
  }
}

function str(o: Obj, key: string, path: string, def?: string): string {
  const v = o[key];
  if (v === undefined) {
    if (def !== undefined) return def;
    fail(`${path}.${key}`, 'is required', 'a string', undefined);
  }
  if (typeof v !== 'string' || v.length === 0) fail(`${path}.${key}`, 'must be a non-empty string', 'a string', v);
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[], def?: T): T {
  const v = str(o, key, path, def);
  if (!(values as readonly string[]).includes(v)) fail(`${path}.${key}`, `must be one of ${values.join(' | ')}, found "${v}"`, values, v);
  return v as T;
}

function bool(o: Obj, key: string, path: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') fail(`${path}.${key}`, `must be true or false, found ${JSON.stringify(v)}`, 'boolean', v);
  return v;
}

function int(o: Obj, key: string, path: string, def: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (v === undefined) {
    if (def !== undefined) return def;
    fail(`${path}.${key}`, 'is required', `an integer in [${min}, ${max}]`, undefined);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${path}.${key}`, `must be an integer in [${min}, ${max}], found ${JSON.stringify(v)}`, `integer in [${min}, ${max}]`, v);
  }
  return v;
}

function num(o: Obj, key: string, path: string, def: number, min: number, max: number, openMin = false): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (openMin && v === min)) {
    const range = `${openMin ? '(' : '['}${min}, ${max}]`;
    fail(`${path}.${key}`, `must be a number in ${range}, found ${JSON.stringify(v)}`, range, v);
  }
  return v;
}

function bits(v: unknown, path: string): PackedBits {
  if (!RECIPE_BITS.includes(v as PackedBits)) {
    fail(path, `must be one of ${RECIPE_BITS.join(', ')} (the packed format's code widths), found ${JSON.stringify(v)}`, RECIPE_BITS, v);
  }
  return v as PackedBits;
}

/** `group`: a positive integer, or −1 / `'channel'` for per-channel. */
function group(v: unknown, path: string): number {
  if (v === 'channel' || v === -1) return -1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    fail(path, `must be a positive integer or -1 / "channel" (per-channel), found ${JSON.stringify(v)}`, 'integer ≥ 1, or -1', v);
  }
  return v;
}

/** Parses a pattern string, turning the pruners' error into `E_CONFIG` at `path`. */
function pattern(v: unknown, path: string): string {
  if (typeof v !== 'string' && typeof v !== 'number') fail(path, `must be a string such as "50%" or "2:4", found ${JSON.stringify(v)}`, '"50%" | "2:4" | …', v);
  const s = String(v);
  try {
    parsePattern(s);
  } catch (e) {
    fail(path, (e as Error).message, 'unstructured fraction in [0, 1) or N:M with 1 ≤ N < M ≤ 16', s);
  }
  return s;
}

/** The parsed pattern of a validated pattern string. */
export function recipePattern(s: string): SparsityPattern {
  return parsePattern(s);
}

const PRUNE_KEYS = ['type', 'method', 'pattern', 'blockSize', 'percDamp', 'tieRule'] as const;
const QUANT_KEYS = ['type', 'method', 'bits', 'group', 'sym', 'actOrder', 'staticGroups', 'clipSearch', 'blockSize', 'percDamp', 'spqr'] as const;
const JOINT_KEYS = ['type', 'pattern', 'bits', 'group', 'sym', 'blockSize', 'percDamp', 'tieRule'] as const;
const SPQR_KEYS = ['outlierThreshold', 'statBits', 'statGroupRows'] as const;

function stage(v: unknown, path: string): Stage {
  if (!isObj(v)) fail(path, 'must be an object with a "type"', 'object', v);
  const type = oneOf(v, 'type', path, ['prune', 'quantize', 'joint'] as const);
  const blockSize = int(v, 'blockSize', path, 128, 1);
  const percDamp = num(v, 'percDamp', path, 0.01, 0, 10);
  if (type === 'prune') {
    checkKeys(v, path, PRUNE_KEYS);
    return {
      type,
      method: oneOf(v, 'method', path, ['magnitude', 'wanda', 'sparsegpt'] as const),
      pattern: pattern(v.pattern ?? fail(`${path}.pattern`, 'is required', '"50%" | "2:4" | …', undefined), `${path}.pattern`),
      blockSize,
      percDamp,
      tieRule: oneOf(v, 'tieRule', path, ['exact', 'reference'] as const, 'exact'),
    };
  }
  if (type === 'joint') {
    checkKeys(v, path, JOINT_KEYS);
    return {
      type,
      pattern: pattern(v.pattern ?? fail(`${path}.pattern`, 'is required', '"50%" | "2:4" | …', undefined), `${path}.pattern`),
      bits: bits(v.bits ?? 4, `${path}.bits`),
      group: group(v.group ?? -1, `${path}.group`),
      sym: bool(v, 'sym', path, false),
      blockSize,
      percDamp,
      tieRule: oneOf(v, 'tieRule', path, ['exact', 'reference'] as const, 'exact'),
    };
  }
  checkKeys(v, path, QUANT_KEYS);
  const method = oneOf(v, 'method', path, ['rtn', 'gptq', 'spqr'] as const);
  const sq = v.spqr ?? {};
  if (!isObj(sq)) fail(`${path}.spqr`, 'must be an object', 'object', sq);
  if (v.spqr !== undefined && method !== 'spqr') fail(`${path}.spqr`, `only applies to method spqr, not ${method}`, 'spqr', method);
  checkKeys(sq, `${path}.spqr`, SPQR_KEYS);
  const q: QuantizeStage = {
    type,
    method,
    bits: bits(v.bits ?? (method === 'spqr' ? 3 : 4), `${path}.bits`),
    group: group(v.group ?? (method === 'spqr' ? 16 : -1), `${path}.group`),
    sym: bool(v, 'sym', path, false),
    actOrder: bool(v, 'actOrder', path, false),
    staticGroups: bool(v, 'staticGroups', path, false),
    clipSearch: bool(v, 'clipSearch', path, false),
    blockSize,
    percDamp,
  };
  if (method === 'spqr') {
    q.spqr = {
      outlierThreshold: num(sq, 'outlierThreshold', `${path}.spqr`, 0.2, 0, Number.MAX_VALUE, true),
      statBits: bits(sq.statBits ?? 3, `${path}.spqr.statBits`),
      statGroupRows: int(sq, 'statGroupRows', `${path}.spqr`, 16, 1),
    };
  }
  if (q.actOrder && method === 'rtn') fail(`${path}.actOrder`, 'act-order needs a Hessian: use method gptq or spqr', false, true);
  if (q.staticGroups && method !== 'gptq') fail(`${path}.staticGroups`, 'applies to method gptq only', false, true);
  if (q.clipSearch && method !== 'rtn') fail(`${path}.clipSearch`, 'applies to method rtn only (GPTQ/SpQR compensate the error instead)', false, true);
  if (q.actOrder && method === 'gptq' && q.group !== -1 && !q.staticGroups) {
    // Act-order with dynamic groups forms groups over the *permuted* columns
    // (GPTQ's g_idx); the packed layout (format §2) stores contiguous groups only.
    fail(`${path}.staticGroups`, 'act-order with groups needs staticGroups: true (packed groups are contiguous original columns)', true, false);
  }
  if (method === 'spqr' && q.group === -1) fail(`${path}.group`, 'SpQR needs small first-level groups (e.g. 16), not per-channel', 'integer ≥ 1', -1);
  return q;
}

/** Rules on the order and combination of stages. */
function checkStageOrder(stages: Stage[]): void {
  if (stages.length === 0) fail('stages', 'must list at least one stage', 'non-empty list', stages);
  const types = stages.map((s) => s.type);
  const count = (t: Stage['type']) => types.filter((x) => x === t).length;
  if (count('prune') > 1 || count('quantize') > 1 || count('joint') > 1) {
    fail('stages', `at most one stage of each type, found [${types.join(', ')}]`, 'prune?, quantize? | joint', types);
  }
  if (count('joint') === 1 && stages.length > 1) {
    fail('stages', 'a joint stage already prunes and quantizes; it cannot be combined with other stages', '[joint]', types);
  }
  const pi = types.indexOf('prune');
  const qi = types.indexOf('quantize');
  if (pi >= 0 && qi >= 0) {
    if (qi < pi) fail('stages', 'prune must come before quantize (pruning a quantized weight breaks its grid)', '[prune, quantize]', types);
    const q = stages[qi] as QuantizeStage;
    if (q.method !== 'rtn') {
      // GPTQ/SpQR updates every remaining weight to compensate errors, which
      // would refill pruned positions; the mask-preserving way is the joint stage.
      fail(
        `stages[${qi}].method`,
        `${q.method} after pruning would overwrite pruned weights with its error updates`,
        'rtn',
        q.method,
        'use a single { type: joint } stage (SparseGPT prune + quantize in one pass), or method rtn',
      );
    }
  }
}

function stringList(v: unknown, path: string, def: string[]): string[] {
  if (v === undefined) return def;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    fail(path, 'must be a list of name patterns (glob or /regex/)', 'string[]', v);
  }
  list.forEach((s, i) => compileNamePattern(s, `recipe ${path}[${i}]`));
  return list;
}

function override(v: unknown, path: string): LayerOverride {
  if (!isObj(v)) fail(path, 'must be an object with "match"', 'object', v);
  checkKeys(v, path, ['match', 'skip', 'pattern', 'bits', 'group']);
  const match = str(v, 'match', path);
  compileNamePattern(match, `recipe ${path}.match`);
  const o: LayerOverride = { match };
  if (v.skip !== undefined) o.skip = bool(v, 'skip', path, false);
  if (v.pattern !== undefined) o.pattern = pattern(v.pattern, `${path}.pattern`);
  if (v.bits !== undefined) o.bits = bits(v.bits, `${path}.bits`);
  if (v.group !== undefined) o.group = group(v.group, `${path}.group`);
  if (o.skip === undefined && o.pattern === undefined && o.bits === undefined && o.group === undefined) {
    fail(path, 'changes nothing: give skip, pattern, bits or group', 'skip | pattern | bits | group', v);
  }
  return o;
}

function calibration(v: unknown): CalibrationSettings {
  if (v === undefined) return { ...DEFAULT_CALIBRATION };
  if (!isObj(v)) fail('calibration', 'must be an object', 'object', v);
  checkKeys(v, 'calibration', ['source', 'samples', 'seqlen', 'seed', 'batchSize']);
  const c: CalibrationSettings = {
    source: str(v, 'source', 'calibration', DEFAULT_CALIBRATION.source),
    samples: int(v, 'samples', 'calibration', DEFAULT_CALIBRATION.samples, 1),
    seed: int(v, 'seed', 'calibration', DEFAULT_CALIBRATION.seed, 0, 2 ** 32 - 1),
    batchSize: int(v, 'batchSize', 'calibration', DEFAULT_CALIBRATION.batchSize, 1),
  };
  if (v.seqlen !== undefined) c.seqlen = int(v, 'seqlen', 'calibration', undefined, 2);
  return c;
}

/**
 * Validates a recipe object (already parsed from JSON/YAML) and fills every
 * default. Throws `E_CONFIG` naming the key path (`stages[1].bits`) for
 * unknown keys and impossible values.
 */
export function validateRecipe(doc: unknown): Recipe {
  if (!isObj(doc)) fail('(root)', 'must be an object with "stages"', 'object', doc);
  checkKeys(doc, '', ['version', 'stages', 'targets', 'ignore', 'overrides', 'calibration']);
  if (doc.version !== undefined && doc.version !== 1) fail('version', `unsupported recipe version ${JSON.stringify(doc.version)}`, 1, doc.version);
  if (!Array.isArray(doc.stages)) fail('stages', 'must be a list of stages', 'list', doc.stages);
  const stages = doc.stages.map((s, i) => stage(s, `stages[${i}]`));
  checkStageOrder(stages);
  const ov = doc.overrides ?? [];
  if (!Array.isArray(ov)) fail('overrides', 'must be a list', 'list', ov);
  const overrides = ov.map((o, i) => override(o, `overrides[${i}]`));
  const hasPattern = stages.some((s) => s.type !== 'quantize');
  const hasBits = stages.some((s) => s.type !== 'prune');
  overrides.forEach((o, i) => {
    if (o.pattern !== undefined && !hasPattern) fail(`overrides[${i}].pattern`, 'no prune or joint stage to override', 'a prune/joint stage', o.pattern);
    if ((o.bits !== undefined || o.group !== undefined) && !hasBits) {
      fail(`overrides[${i}].${o.bits !== undefined ? 'bits' : 'group'}`, 'no quantize or joint stage to override', 'a quantize/joint stage', o.bits ?? o.group);
    }
  });
  return {
    version: 1,
    stages,
    targets: stringList(doc.targets, 'targets', ['*']),
    ignore: stringList(doc.ignore, 'ignore', []),
    overrides,
    calibration: calibration(doc.calibration),
  };
}

/**
 * Parses and validates a recipe from JSON or YAML text (YAML is a superset of
 * JSON, so one parser serves both). `file` names the source in errors.
 */
export function parseRecipe(text: string, file = '<recipe>'): Recipe {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw new SparqError('E_CONFIG', `cannot parse recipe ${file}${where}: ${(e as Error).message.split('\n')[0]}`, {
      details: { file },
      cause: e,
    });
  }
  try {
    return validateRecipe(doc);
  } catch (e) {
    if (e instanceof SparqError && e.code === 'E_CONFIG') {
      throw new SparqError('E_CONFIG', e.message.replace(/^recipe /, `recipe ${file}: `), {
        details: { ...e.details, file },
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
    throw e;
  }
}
