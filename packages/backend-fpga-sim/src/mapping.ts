/**
 * Mapping a GEMM onto the array: which GEMM dimension goes to PE rows, PE
 * columns and time for each dataflow, how N:M sparsity shrinks the reduction
 * dimension, the fold grid, and what each fold moves between DRAM, SRAM and
 * the array. Both simulation modes (analytical and cycle-level) consume this
 * one plan, so they can only disagree about *timing*, which is what the
 * agreement tests check.
 */
import { SparqError } from '@sparq/tensor';
import type { Dataflow, FpgaConfig } from './config';

/** `out[m×n] = A[m×k] · Wᵀ` with `W` stored `[n, k]` (PyTorch Linear layout). */
export interface GemmShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

/** N:M sparsity of the weights along k: `keep` kept of every `group`. Dense is `{ keep: 1, group: 1 }`. */
export interface SparsityPattern {
  readonly keep: number;
  readonly group: number;
}

/** The dense pattern. */
export const DENSE: SparsityPattern = { keep: 1, group: 1 };

/** What one GEMM is made of, beyond its shape. */
export interface GemmWorkload {
  readonly shape: GemmShape;
  readonly sparsity: SparsityPattern;
  /** Bits per stored weight code (2, 3, 4 or 8). */
  readonly weightBits: number;
  /** Quantization group length along k in original columns (one f16 scale per group and output row); 0 = no scales. */
  readonly quantGroupSize: number;
}

/** Parses `"2:4"` (or `"dense"`) into a pattern, with `E_ARG` on bad input. */
export function parsePattern(s: string): SparsityPattern {
  if (s === 'dense' || s === '1:1') return DENSE;
  const m = /^(\d+):(\d+)$/.exec(s.trim());
  if (!m) {
    throw new SparqError('E_ARG', `sparsity pattern must look like N:M (e.g. 2:4) or "dense", found "${s}"`, {
      details: { expected: 'N:M', found: s },
    });
  }
  const keep = Number(m[1]);
  const group = Number(m[2]);
  if (!(keep >= 1 && keep < group && group <= 16)) {
    throw new SparqError('E_ARG', `sparsity pattern ${s}: need 1 ≤ N < M ≤ 16 (docs/format.md §3)`, {
      details: { expected: '1 ≤ N < M ≤ 16', found: s },
    });
  }
  return { keep, group };
}

/** `"2:4"`, or `"dense"`. */
export function patternName(p: SparsityPattern): string {
  return p.group === 1 ? 'dense' : `${p.keep}:${p.group}`;
}

/** Bits of one in-group index (docs/format.md §3): `ceil(log2 M)`, 0 when dense. */
export function indexBits(p: SparsityPattern): number {
  return p.group === 1 ? 0 : Math.ceil(Math.log2(p.group));
}

/** Which fold coordinates a streamed or stationary operand tile depends on (for reuse from SRAM). */
type TileDep = 'row' | 'col' | 'both';

/** The fold grid of one GEMM on one array. */
export interface FoldPlan {
  readonly dataflow: Dataflow;
  readonly rows: number;
  readonly cols: number;
  /** Compressed reduction length `k · keep / group` (kept weight slots per output row). */
  readonly kc: number;
  /** Spatial extent mapped on PE rows, PE columns, and the temporal (streamed) extent. */
  readonly sr: number;
  readonly sc: number;
  readonly t: number;
  readonly rowFolds: number;
  readonly colFolds: number;
  /** Total folds `rowFolds · colFolds`; folds run column-fold-major (row folds inner). */
  readonly folds: number;
  readonly workload: GemmWorkload;
  /** Bytes per activation element on the input edge. */
  readonly activationBytes: number;
  /** Bytes per output element written to DRAM (f16). */
  readonly outputBytes: number;
  /** Bytes per accumulator in the output SRAM. */
  readonly accumulatorBytes: number;
  /** Whole weight / activation operand fits in half its SRAM, so each tile is fetched from DRAM once. */
  readonly weightResident: boolean;
  readonly activationResident: boolean;
  readonly weightDep: TileDep;
  readonly activationDep: TileDep;
  /** Row folds cover the reduction (ws, is): outputs complete only at the last row fold. */
  readonly reductionOnRows: boolean;
  /** Folds the DMA may run ahead: `min(sram.prefetchFolds, tiles that fit each buffer)`, at least 2. */
  readonly prefetchDepth: number;
  /** True when not even two fold tiles fit a buffer (the depth is forced to 2 and the design is flagged). */
  readonly sramOverflow: boolean;
  /** True when one column fold's partial sums (accumulator width) exceed the output buffer (flagged, not modelled as spills). */
  readonly outputOverflow: boolean;
}

/** One fold's extents and traffic. */
export interface FoldTraffic {
  rowsUsed: number;
  colsUsed: number;
  /** MACs the PEs perform (kept slots only). */
  macs: number;
  /** DRAM → SRAM bytes this fold needs before it can start. */
  loadBytes: number;
  /** SRAM → DRAM bytes of outputs this fold completes. */
  storeBytes: number;
  /** SRAM → array bytes (weights + activations) and output-buffer read+write bytes. */
  sramBytes: number;
  /** Split of loadBytes. */
  weightLoadBytes: number;
  activationLoadBytes: number;
}

function weightTileBytes(w: GemmWorkload, kcExt: number, nExt: number): number {
  const slotBits = w.weightBits + indexBits(w.sparsity);
  const kOrig = Math.ceil(kcExt / w.sparsity.keep) * w.sparsity.group;
  const scales = w.quantGroupSize > 0 ? nExt * Math.ceil(kOrig / w.quantGroupSize) * 2 : 0;
  return Math.ceil((kcExt * nExt * slotBits) / 8) + scales;
}

/**
 * Validates a workload against the array (pattern supported by the selector,
 * `k` a multiple of the group) and builds its fold plan.
 */
export function planFolds(cfg: FpgaConfig, workload: GemmWorkload): FoldPlan {
  const { m, k, n } = workload.shape;
  for (const [name, v] of [['m', m], ['k', k], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new SparqError('E_SHAPE_MISMATCH', `GEMM ${name} must be a positive integer, found ${v}`, { details: { expected: '≥ 1', found: v } });
    }
  }
  const { keep, group } = workload.sparsity;
  if (group > 1) {
    if (group > cfg.pe.maxGroup) {
      throw new SparqError('E_KERNEL_UNSUPPORTED', `pattern ${keep}:${group} needs a ${group}-to-1 selector; this PE supports M ≤ ${cfg.pe.maxGroup}`, {
        details: { expected: `M ≤ ${cfg.pe.maxGroup}`, found: group },
        hint: 'raise pe.maxGroup in the architecture config',
      });
    }
    if (k % group !== 0) {
      throw new SparqError('E_SHAPE_MISMATCH', `k = ${k} is not a multiple of the N:M group ${group} (docs/format.md §3)`, {
        details: { expected: `k % ${group} = 0`, found: k },
      });
    }
  }
  if (!Number.isInteger(workload.weightBits) || workload.weightBits < 2 || workload.weightBits > cfg.pe.weightBits) {
    throw new SparqError('E_KERNEL_UNSUPPORTED', `${workload.weightBits}-bit weights do not fit the PE's ${cfg.pe.weightBits}-bit multiplier`, {
      details: { expected: `2…${cfg.pe.weightBits}`, found: workload.weightBits },
      hint: 'set pe.weightBits to 8 in the architecture config',
    });
  }
  const kc = (k / group) * keep;
  const { rows, cols, dataflow } = cfg.array;
  const [sr, sc, t] = dataflow === 'ws' ? [kc, n, m] : dataflow === 'os' ? [m, n, kc] : [kc, m, n];
  const rowFolds = Math.ceil(sr / rows);
  const colFolds = Math.ceil(sc / cols);
  const activationBytes = cfg.pe.activation === 'int8' ? 1 : 2;
  const weightTotal = weightTileBytes(workload, kc, n);
  const activationTotal = m * k * activationBytes;
  // Largest per-fold tiles (a full fold) decide how many folds the buffers can hold.
  const rowsFull = Math.min(rows, sr);
  const colsFull = Math.min(cols, sc);
  const [kcTile, nTile, mTile] = dataflow === 'ws' ? [rowsFull, colsFull, t] : dataflow === 'os' ? [t, colsFull, rowsFull] : [rowsFull, t, colsFull];
  const wTile = weightTileBytes(workload, kcTile, nTile);
  const aTile = mTile * Math.ceil(kcTile / keep) * group * activationBytes;
  const fit = Math.min(Math.floor((cfg.sram.weightKiB * 1024) / wTile), Math.floor((cfg.sram.activationKiB * 1024) / aTile));
  return {
    dataflow,
    rows,
    cols,
    kc,
    sr,
    sc,
    t,
    rowFolds,
    colFolds,
    folds: rowFolds * colFolds,
    workload,
    activationBytes,
    outputBytes: 2,
    accumulatorBytes: Math.ceil(cfg.pe.accumulatorBits / 8),
    weightResident: weightTotal <= (cfg.sram.weightKiB * 1024) / 2,
    activationResident: activationTotal <= (cfg.sram.activationKiB * 1024) / 2,
    weightDep: dataflow === 'ws' ? 'both' : dataflow === 'os' ? 'col' : 'row',
    activationDep: dataflow === 'ws' ? 'row' : dataflow === 'os' ? 'row' : 'both',
    reductionOnRows: dataflow !== 'os',
    prefetchDepth: Math.max(2, Math.min(cfg.sram.prefetchFolds, fit)),
    sramOverflow: fit < 2,
    outputOverflow: mTile * nTile * Math.ceil(cfg.pe.accumulatorBits / 8) > cfg.sram.outputKiB * 1024,
  };
}

function firstUse(dep: TileDep, rf: number, cf: number): boolean {
  return dep === 'both' || (dep === 'row' ? cf === 0 : rf === 0);
}

/**
 * Traffic of fold `(rf, cf)` (folds run with `cf` outer, `rf` inner). Writes
 * into `out` to avoid allocating in the per-fold loops of model-level runs.
 */
export function foldTraffic(plan: FoldPlan, rf: number, cf: number, out: FoldTraffic): FoldTraffic {
  const rowsUsed = Math.min(plan.rows, plan.sr - rf * plan.rows);
  const colsUsed = Math.min(plan.cols, plan.sc - cf * plan.cols);
  const w = plan.workload;
  let kcExt: number;
  let mExt: number;
  let nExt: number;
  if (plan.dataflow === 'ws') [kcExt, nExt, mExt] = [rowsUsed, colsUsed, plan.t];
  else if (plan.dataflow === 'os') [mExt, nExt, kcExt] = [rowsUsed, colsUsed, plan.t];
  else [kcExt, mExt, nExt] = [rowsUsed, colsUsed, plan.t];
  const kOrig = Math.ceil(kcExt / w.sparsity.keep) * w.sparsity.group;
  const wBytes = weightTileBytes(w, kcExt, nExt);
  const aBytes = mExt * kOrig * plan.activationBytes;
  const weightLoadBytes = !plan.weightResident || firstUse(plan.weightDep, rf, cf) ? wBytes : 0;
  const activationLoadBytes = !plan.activationResident || firstUse(plan.activationDep, rf, cf) ? aBytes : 0;
  const completes = !plan.reductionOnRows || rf === plan.rowFolds - 1;
  const outElems = mExt * nExt;
  // Output buffer: every fold writes its partial sums; folds after the first of a reduction also read them (RMW).
  const accTraffic = outElems * plan.accumulatorBytes * (plan.reductionOnRows && rf > 0 ? 2 : 1);
  out.rowsUsed = rowsUsed;
  out.colsUsed = colsUsed;
  out.macs = rowsUsed * colsUsed * plan.t;
  out.weightLoadBytes = weightLoadBytes;
  out.activationLoadBytes = activationLoadBytes;
  out.loadBytes = weightLoadBytes + activationLoadBytes;
  out.storeBytes = completes ? outElems * plan.outputBytes : 0;
  out.sramBytes = wBytes + aBytes + accTraffic + weightLoadBytes + activationLoadBytes;
  return out;
}

/** A fresh scratch record for {@link foldTraffic}. */
export function emptyTraffic(): FoldTraffic {
  return { rowsUsed: 0, colsUsed: 0, macs: 0, loadBytes: 0, storeBytes: 0, sramBytes: 0, weightLoadBytes: 0, activationLoadBytes: 0 };
}
