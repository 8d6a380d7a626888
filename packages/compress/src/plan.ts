/**
 * Resolves a recipe against a model's linear layers: which linears are
 * compressed, with which stages after overrides, and whether every setting
 * fits each layer's shape (group sizes and N:M groups must divide the input
 * dimension; the packed format has no implicit padding).
 */
import type { SparsityPattern } from '@sparq/pruners';
import { SparqError, type PackedBits } from '@sparq/tensor';
import { compileNamePattern } from './name-match';
import {
  recipePattern,
  type PruneMethod,
  type QuantMethod,
  type Recipe,
  type SpqrSettings,
  type Stage,
  type TieRule,
} from './recipe';

/** One linear layer as the model reports it: `[rows = out, cols = in]`. */
export interface LinearShape {
  name: string;
  rows: number;
  cols: number;
}

/** The pruning a linear gets (also the pruning half of a joint stage). */
export interface PrunePlan {
  method: PruneMethod;
  pattern: SparsityPattern;
  /** Canonical text as written in the recipe/override, e.g. `2:4`. */
  patternText: string;
  blockSize: number;
  percDamp: number;
  tieRule: TieRule;
}

/** The quantization a linear gets (also the quantizer of a joint stage). */
export interface QuantPlan {
  /** `joint`: the column quantizer inside SparseGPT's pass. */
  method: QuantMethod | 'joint';
  bits: PackedBits;
  /** Columns per group, resolved: per-channel is `cols`. */
  groupSize: number;
  sym: boolean;
  actOrder: boolean;
  staticGroups: boolean;
  clipSearch: boolean;
  blockSize: number;
  percDamp: number;
  spqr: SpqrSettings;
}

/** What the driver does with one linear (a linear that ends up with nothing to do is left dense). */
export interface LinearPlan extends LinearShape {
  prune?: PrunePlan;
  quantize?: QuantPlan;
  /** Prune and quantize in one SparseGPT pass. */
  joint: boolean;
  /** Calibration statistic its solvers need: none, Wanda's Σx²/n, or the Hessian. */
  needs: 'none' | 'meanSquare' | 'hessian';
}

/** The resolved plan of a whole model. */
export interface CompressionPlan {
  /** Plans of the compressed linears, by name (untargeted/skipped linears are absent). */
  linears: Map<string, LinearPlan>;
  /** Names left dense (not targeted, ignored or skipped by an override). */
  dense: string[];
  /** Non-fatal findings, e.g. an `ignore` entry that matches nothing. */
  warnings: string[];
}

const DEFAULT_SPQR: SpqrSettings = { outlierThreshold: 0.2, statBits: 3, statGroupRows: 16 };

function divisors(n: number): number[] {
  const d: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) d.push(i);
  return d;
}

function configError(keyPath: string, l: LinearShape, message: string, expected: unknown, found: unknown, hint: string): never {
  throw new SparqError('E_CONFIG', `recipe ${keyPath}: ${message} (linear ${l.name}, [${l.rows}, ${l.cols}])`, {
    details: { tensor: l.name, expected, found },
    hint,
  });
}

function overrideHint(l: LinearShape, key: 'group' | 'pattern'): string {
  const alt = key === 'group' ? `pick a divisor of ${l.cols}: ${divisors(l.cols).join(', ')}, or -1 (per-channel)` : 'pick an M dividing the input dimension, or an unstructured fraction';
  return `${alt}; a per-layer override such as { match: "${l.name.replace(/\.\d+\./, '.*.')}", ${key}: … } changes only those layers`;
}

/**
 * Resolves `recipe` for `linears` (every linear of the model, in order).
 * Overrides apply in order (later ones win per key). Throws `E_CONFIG` naming
 * the key path and the layer when a setting cannot fit a layer's shape, and
 * when a `targets` entry matches no linear (a typo would otherwise compress
 * nothing silently).
 */
export function planCompression(recipe: Recipe, linears: readonly LinearShape[]): CompressionPlan {
  const targets = recipe.targets.map((t, i) => ({ text: t, hit: false, m: compileNamePattern(t, `recipe targets[${i}]`) }));
  const ignore = recipe.ignore.map((t, i) => ({ text: t, hit: false, m: compileNamePattern(t, `recipe ignore[${i}]`) }));
  const overrides = recipe.overrides.map((o, i) => ({ o, i, hit: false, m: compileNamePattern(o.match, `recipe overrides[${i}].match`) }));
  const out: CompressionPlan = { linears: new Map(), dense: [], warnings: [] };

  for (const l of linears) {
    const targeted = targets.filter((t) => t.m(l.name));
    targeted.forEach((t) => (t.hit = true));
    const ignored = ignore.filter((t) => t.m(l.name));
    ignored.forEach((t) => (t.hit = true));
    if (targeted.length === 0 || ignored.length > 0) {
      out.dense.push(l.name);
      continue;
    }
    // Merge the matching overrides, remembering which key path set each value (for errors).
    let skip = false;
    let pattern: { text: string; path: string } | undefined;
    let bits: { v: PackedBits; path: string } | undefined;
    let group: { v: number; path: string } | undefined;
    for (const ov of overrides) {
      if (!ov.m(l.name)) continue;
      ov.hit = true;
      if (ov.o.skip !== undefined) skip = ov.o.skip;
      if (ov.o.pattern !== undefined) pattern = { text: ov.o.pattern, path: `overrides[${ov.i}].pattern` };
      if (ov.o.bits !== undefined) bits = { v: ov.o.bits, path: `overrides[${ov.i}].bits` };
      if (ov.o.group !== undefined) group = { v: ov.o.group, path: `overrides[${ov.i}].group` };
    }
    if (skip) {
      out.dense.push(l.name);
      continue;
    }
    const lp = planLinear(recipe.stages, l, pattern, bits, group);
    if (lp) out.linears.set(l.name, lp);
    else out.dense.push(l.name);
  }

  for (const t of targets) {
    if (!t.hit) {
      throw new SparqError('E_CONFIG', `recipe targets: "${t.text}" matches no linear layer`, {
        details: { found: t.text, expected: 'a glob or /regex/ over linear names' },
        hint: `linear names look like ${linears[0]?.name ?? '(the model has none)'}; globs match the whole name (use *)`,
      });
    }
  }
  for (const t of ignore) if (!t.hit) out.warnings.push(`ignore "${t.text}" matches no linear layer`);
  for (const o of overrides) if (!o.hit) out.warnings.push(`overrides[${o.i}] (match "${o.o.match}") matches no linear layer`);
  return out;
}

function planLinear(
  stages: readonly Stage[],
  l: LinearShape,
  patternOv: { text: string; path: string } | undefined,
  bitsOv: { v: PackedBits; path: string } | undefined,
  groupOv: { v: number; path: string } | undefined,
): LinearPlan | undefined {
  const plan: LinearPlan = { ...l, joint: false, needs: 'none' };
  stages.forEach((s, si) => {
    if (s.type === 'prune' || s.type === 'joint') {
      const text = patternOv?.text ?? s.pattern;
      const path = patternOv?.path ?? `stages[${si}].pattern`;
      const pattern = recipePattern(text);
      if (pattern.kind === 'nm' && l.cols % pattern.m !== 0) {
        configError(path, l, `${text} needs the input dimension to be a multiple of ${pattern.m}`, `cols % ${pattern.m} === 0`, l.cols, overrideHint(l, 'pattern'));
      }
      plan.prune = { method: s.type === 'joint' ? 'sparsegpt' : s.method, pattern, patternText: text, blockSize: s.blockSize, percDamp: s.percDamp, tieRule: s.tieRule };
      if (plan.prune.method === 'sparsegpt' && pattern.kind === 'nm' && s.blockSize % pattern.m !== 0) {
        // SparseGPT picks each N:M group inside one column block.
        configError(`stages[${si}].blockSize`, l, `SparseGPT's block size ${s.blockSize} must be a multiple of M = ${pattern.m} for ${text}`, `a multiple of ${pattern.m}`, s.blockSize, 'use a block size such as 128 that M divides');
      }
    }
    if (s.type === 'quantize' || s.type === 'joint') {
      const b = bitsOv?.v ?? s.bits;
      const g = groupOv?.v ?? s.group;
      const gPath = groupOv?.path ?? `stages[${si}].group`;
      const groupSize = g === -1 ? l.cols : g;
      if (l.cols % groupSize !== 0) {
        configError(gPath, l, `group ${g} does not divide the input dimension ${l.cols}`, `a divisor of ${l.cols}`, g, overrideHint(l, 'group'));
      }
      const q = s.type === 'quantize' ? s : undefined;
      plan.quantize = {
        method: s.type === 'joint' ? 'joint' : s.method,
        bits: b,
        groupSize,
        sym: s.sym,
        actOrder: q?.actOrder ?? false,
        staticGroups: q?.staticGroups ?? false,
        clipSearch: q?.clipSearch ?? false,
        blockSize: s.blockSize,
        percDamp: s.percDamp,
        spqr: q?.spqr ?? DEFAULT_SPQR,
      };
      if (s.type === 'joint') plan.joint = true;
    }
  });
  // A 'dense' (0 %) pattern — how a planner keeps one layer unpruned — means no pruning stage, not an empty mask
  // (an all-kept bitmask would cost more than the dense tensor). A joint stage keeps its quantizer.
  const none = plan.prune?.pattern.kind === 'unstructured' && plan.prune.pattern.sparsity === 0;
  if (none && !plan.joint) delete plan.prune;
  if (!plan.prune && !plan.quantize) return undefined;
  // N:M + quantized values (docs/format.md §4): groups are stated in original columns and must hold whole N:M groups.
  const p = plan.prune?.pattern;
  if (p?.kind === 'nm' && plan.quantize && plan.quantize.groupSize % p.m !== 0) {
    const gPath = groupOv?.path ?? `stages[${stages.findIndex((s) => s.type !== 'prune')}].group`;
    configError(gPath, l, `group ${plan.quantize.groupSize} must be a multiple of M = ${p.m} to pack N:M with quantized values`, `a multiple of ${p.m}`, plan.quantize.groupSize, overrideHint(l, 'group'));
  }
  const hessian = plan.prune?.method === 'sparsegpt' || (plan.quantize !== undefined && plan.quantize.method !== 'rtn');
  plan.needs = hessian ? 'hessian' : plan.prune?.method === 'wanda' ? 'meanSquare' : 'none';
  return plan;
}
