/**
 * The CLI's shorthand flags (`--prune sparsegpt --pattern 2:4 --quant rtn
 * --bits 4 …`) as a recipe, validated by the same code as recipe files, with
 * errors that name the flag instead of the key path.
 */
import { SparqError } from '@sparq/tensor';
import { validateRecipe, type Recipe } from './recipe';

/** The shorthand flags (already type-converted; undefined = not given). */
export interface RecipeFlags {
  prune?: string;
  pattern?: string;
  quant?: string;
  bits?: number;
  /** Columns per group; −1 = per-channel. */
  group?: number;
  sym?: boolean;
  actOrder?: boolean;
  joint?: boolean;
  /** `self` or a text file. */
  calib?: string;
  samples?: number;
  seqlen?: number;
  seed?: number;
}

const FLAG_OF_KEY: Record<string, string> = {
  pattern: '--pattern',
  bits: '--bits',
  group: '--group',
  sym: '--sym',
  actOrder: '--act-order',
  staticGroups: '--act-order',
  source: '--calib',
  samples: '--samples',
  seqlen: '--seqlen',
  seed: '--seed',
};

function argError(message: string, found?: unknown, hint?: string): never {
  throw new SparqError('E_ARG', message, { details: { found }, ...(hint ? { hint } : {}) });
}

/** Rewrites a recipe `E_CONFIG` at `stages[i].key` into an `E_ARG` naming the flag. */
function asFlagError(e: unknown, stageFlags: string[]): never {
  if (e instanceof SparqError && e.code === 'E_CONFIG') {
    const m = /^recipe (stages\[(\d+)\]\.)?(calibration\.)?(\w+)?[^:]*: (.*)$/s.exec(e.message);
    let flag = m?.[4] ? FLAG_OF_KEY[m[4]] : undefined;
    if (m?.[4] === 'method' && m[2] !== undefined) flag = stageFlags[Number(m[2])];
    if (m && flag) throw new SparqError('E_ARG', `${flag}: ${m[5]}`, { details: e.details, ...(e.hint ? { hint: e.hint } : {}) });
    throw new SparqError('E_ARG', e.message.replace(/^recipe /, 'options: '), { details: e.details, ...(e.hint ? { hint: e.hint } : {}) });
  }
  throw e;
}

/** True when any stage flag (prune/quant/…) is given. */
export function hasStageFlags(f: RecipeFlags): boolean {
  return [f.prune, f.pattern, f.quant, f.bits, f.group, f.sym, f.actOrder, f.joint].some((v) => v !== undefined && v !== false);
}

/**
 * Applies `--calib/--samples/--seqlen/--seed` over a recipe's calibration
 * settings (flags win), re-validating.
 */
export function withCalibrationFlags(recipe: Recipe, f: RecipeFlags): Recipe {
  const calibration = {
    ...recipe.calibration,
    ...(f.calib !== undefined ? { source: f.calib } : {}),
    ...(f.samples !== undefined ? { samples: f.samples } : {}),
    ...(f.seqlen !== undefined ? { seqlen: f.seqlen } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
  };
  try {
    return validateRecipe({ ...recipe, calibration });
  } catch (e) {
    return asFlagError(e, []);
  }
}

/**
 * Builds a recipe from the shorthand flags:
 * `--prune M --pattern P` → a prune stage; `--quant M --bits B --group G
 * [--sym] [--act-order]` → a quantize stage (default 4 bits, per-channel);
 * `--joint` merges `--prune sparsegpt` and the quantization into one
 * SparseGPT pass. `--act-order` with groups implies static groups (the only
 * layout the packed format stores). Throws `E_ARG` naming the flag.
 * @example
 * recipeFromFlags({ prune: 'sparsegpt', pattern: '2:4', quant: 'rtn', bits: 4, group: 32, calib: 'self' });
 */
export function recipeFromFlags(f: RecipeFlags): Recipe {
  if (f.pattern !== undefined && f.prune === undefined) argError('--pattern needs --prune magnitude|wanda|sparsegpt', f.pattern);
  const quantOnly = [f.bits !== undefined && '--bits', f.group !== undefined && '--group', f.sym && '--sym', f.actOrder && '--act-order'].filter(Boolean);
  if (f.quant === undefined && quantOnly.length > 0) argError(`${quantOnly.join(', ')} need --quant rtn|gptq|spqr`, quantOnly);
  if (f.prune === undefined && f.quant === undefined) {
    argError('nothing to do: give --recipe <file>, or --prune and/or --quant', undefined, 'e.g. sparq compress stories260K --prune sparsegpt --pattern 2:4 --out out/s24');
  }
  if (f.prune !== undefined && f.pattern === undefined) argError(`--prune ${f.prune} needs --pattern (e.g. 50%, 2:4, 4:8)`, f.prune);
  const stages: Record<string, unknown>[] = [];
  const stageFlags: string[] = [];
  const quantStage = () => ({
    ...(f.bits !== undefined ? { bits: f.bits } : {}),
    ...(f.group !== undefined ? { group: f.group } : {}),
    ...(f.sym ? { sym: true } : {}),
  });
  if (f.joint) {
    if (f.prune !== 'sparsegpt') argError('--joint needs --prune sparsegpt (SparseGPT quantizes inside its pruning pass)', f.prune);
    if (f.quant === undefined) argError('--joint needs --quant (rtn or gptq) with --bits', undefined);
    if (f.quant === 'spqr') argError('--joint cannot use --quant spqr: the joint pass uses a plain group quantizer', f.quant);
    if (f.actOrder) argError('--joint does not support --act-order', true);
    stages.push({ type: 'joint', pattern: f.pattern, ...quantStage() });
    stageFlags.push('--prune');
  } else {
    if (f.prune !== undefined) {
      stages.push({ type: 'prune', method: f.prune, pattern: f.pattern });
      stageFlags.push('--prune');
    }
    if (f.quant !== undefined) {
      const grouped = f.group !== undefined && f.group !== -1;
      stages.push({
        type: 'quantize',
        method: f.quant,
        ...quantStage(),
        ...(f.actOrder ? { actOrder: true, ...(grouped && f.quant === 'gptq' ? { staticGroups: true } : {}) } : {}),
      });
      stageFlags.push('--quant');
    }
  }
  const calibration = {
    ...(f.calib !== undefined ? { source: f.calib } : {}),
    ...(f.samples !== undefined ? { samples: f.samples } : {}),
    ...(f.seqlen !== undefined ? { seqlen: f.seqlen } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
  };
  try {
    return validateRecipe({ stages, calibration });
  } catch (e) {
    return asFlagError(e, stageFlags);
  }
}
