/**
 * SCALE-Sim v2 compatibility: its analytical GEMM timing reproduced in closed
 * form. SCALE-Sim builds per-fold "demand matrices" (one line per cycle) and
 * runs them through its memory model; with its default estimate-bandwidth
 * memory and no write-buffer drains, no line stalls, so its result depends only
 * on the line counts derived here. Formulas and the source lines they come from
 * are in docs/fpga.md ("SCALE-Sim compatibility").
 */
import type { Dataflow } from './config';
import type { GemmShape } from './mapping';

/** SCALE-Sim's COMPUTE_REPORT and request counts for one GEMM layer. */
export interface ScaleSimReport {
  /** Spatial rows, spatial columns, temporal extent (SCALE-Sim's Sr, Sc, T). */
  readonly sr: number;
  readonly sc: number;
  readonly t: number;
  readonly rowFolds: number;
  readonly colFolds: number;
  /** Demand-matrix lines per fold. */
  readonly cyclesPerFold: number;
  /** "Total Cycles": the cycle index of the last OFMAP demand line (lines − 1). */
  readonly totalCycles: number;
  /** "Stall Cycles": 0 under the estimate-bandwidth memory model. */
  readonly stallCycles: number;
  /** "Overall Util %": `m·n·k · 100 / (totalCycles · rows · cols)`. */
  readonly overallUtilPct: number;
  /** "Mapping Efficiency %": mean over folds of used PEs / all PEs. */
  readonly mappingEfficiencyPct: number;
  /** "Compute Util %": mean over folds of `used·T / (rows·cols·foldCycles)` with SCALE-Sim's foldCycles. */
  readonly computeUtilPct: number;
  /** SRAM request counts (elements) as SCALE-Sim's compute modules count them. */
  readonly ifmapSramReads: number;
  readonly filterSramReads: number;
  readonly ofmapSramWrites: number;
}

/**
 * SCALE-Sim v2's analytical timing of a GEMM on a `rows × cols` array.
 * GEMM convention: topology row `M, N, K` becomes ifmap `M×K`, filter `K×N`;
 * os maps (Sr, Sc, T) = (M, N, K), ws (K, N, M), is (K, M, N).
 */
export function scaleSimGemm(rows: number, cols: number, dataflow: Dataflow, shape: GemmShape): ScaleSimReport {
  const { m, n, k } = shape;
  const [sr, sc, t] = dataflow === 'os' ? [m, n, k] : dataflow === 'ws' ? [k, n, m] : [k, m, n];
  const rowFolds = Math.ceil(sr / rows);
  const colFolds = Math.ceil(sc / cols);
  const folds = rowFolds * colFolds;
  // os: T operand lines + (cols−1) drain lines, skewed over `rows` → T + R + C − 2.
  // ws/is: R weight/ifmap-load lines are prepended → 2R + C + T − 2.
  const cyclesPerFold = dataflow === 'os' ? t + rows + cols - 2 : 2 * rows + cols + t - 2;
  // The compute-util denominator SCALE-Sim uses: shape[0] + shape[1] − 1 of the unskewed
  // ofmap (os) or filter/ifmap (ws/is) demand matrix of a fold.
  const utilFoldCycles = dataflow === 'os' ? t + rows + cols - 2 : 2 * rows + 2 * cols + t - 3;
  const totalCycles = folds * cyclesPerFold - 1;
  let mapSum = 0;
  let utilSum = 0;
  for (let cf = 0; cf < colFolds; cf++) {
    const colUsed = Math.min(cols, sc - cf * cols);
    for (let rf = 0; rf < rowFolds; rf++) {
      const rowUsed = Math.min(rows, sr - rf * rows);
      mapSum += (rowUsed * colUsed) / (rows * cols);
      utilSum += (rowUsed * colUsed * t) / (rows * cols * utilFoldCycles);
    }
  }
  let ifmapSramReads: number;
  let filterSramReads: number;
  let ofmapSramWrites: number;
  if (dataflow === 'os') {
    ifmapSramReads = colFolds * m * k;
    filterSramReads = rowFolds * k * n;
    // os also adds rows + cols per fold (the padded fold's shape) to its ofmap write count.
    ofmapSramWrites = m * n + folds * (rows + cols);
  } else if (dataflow === 'ws') {
    ifmapSramReads = colFolds * m * k;
    filterSramReads = k * n;
    ofmapSramWrites = rowFolds * m * n;
  } else {
    ifmapSramReads = m * k;
    filterSramReads = colFolds * k * n;
    ofmapSramWrites = rowFolds * m * n;
  }
  return {
    sr,
    sc,
    t,
    rowFolds,
    colFolds,
    cyclesPerFold,
    totalCycles,
    stallCycles: 0,
    overallUtilPct: (m * n * k * 100) / (totalCycles * rows * cols),
    mappingEfficiencyPct: (mapSum / folds) * 100,
    computeUtilPct: (utilSum / folds) * 100,
    ifmapSramReads,
    filterSramReads,
    ofmapSramWrites,
  };
}
