/**
 * The result of simulating one GEMM (either mode) and the roll-ups built from
 * the raw counts: latency, utilisation, boundedness and energy.
 */
import type { Dataflow, FpgaConfig } from './config';
import { dramBytesPerCycle } from './config';
import type { FoldPlan, GemmShape } from './mapping';
import { patternName } from './mapping';

/** Energy split in microjoules. */
export interface EnergyReport {
  readonly macUj: number;
  readonly sramUj: number;
  readonly dramUj: number;
  readonly staticUj: number;
  readonly totalUj: number;
}

/** Timing, traffic and energy of one GEMM on the array. */
export interface GemmReport {
  readonly mode: 'analytical' | 'cycle';
  readonly config: string;
  readonly dataflow: Dataflow;
  readonly rows: number;
  readonly cols: number;
  readonly shape: GemmShape;
  /** `"dense"`, `"2:4"`, … */
  readonly pattern: string;
  readonly weightBits: number;
  readonly rowFolds: number;
  readonly colFolds: number;
  readonly folds: number;
  /** Total cycles from the first DRAM request to the last output byte in DRAM. */
  readonly cycles: number;
  /** Cycles the array waits on DRAM (initial load, stalls between folds, final write-back). */
  readonly stallCycles: number;
  /** Cycles lost because a fold streams fewer than `rows` elements (stationary-operand switch bound). */
  readonly switchStallCycles: number;
  /** `cycles` at the configured clock, in milliseconds. */
  readonly latencyMs: number;
  /** MACs the PEs perform (kept weights only). */
  readonly macs: number;
  /** MACs of the dense GEMM `m·k·n`. */
  readonly denseMacs: number;
  /** `macs / (cycles · rows · cols)`. */
  readonly utilization: number;
  readonly dramReadBytes: number;
  readonly dramWriteBytes: number;
  readonly dramBytes: number;
  readonly sramBytes: number;
  /** Array busy cycles (Σ per-fold issue intervals) vs. DRAM transfer cycles: which one limits. */
  readonly bound: 'compute' | 'memory';
  readonly computeBusyCycles: number;
  readonly dramBusyCycles: number;
  readonly energy: EnergyReport;
  /** False when the buffers cannot hold two fold tiles or one column fold's partial sums (see docs/fpga.md). */
  readonly sramFits: boolean;
}

/** Raw counts a simulation produces; {@link finishReport} derives the rest. */
export interface RawCounts {
  cycles: number;
  stallCycles: number;
  switchStallCycles: number;
  macs: number;
  dramReadBytes: number;
  dramWriteBytes: number;
  sramBytes: number;
  computeBusyCycles: number;
}

/** Energy of a run: MACs, SRAM and DRAM bytes at the configured pJ costs plus static power over the latency. */
export function energyOf(cfg: FpgaConfig, macs: number, sramBytes: number, dramBytes: number, cycles: number): EnergyReport {
  const macUj = (macs * cfg.energy.macPj) / 1e6;
  const sramUj = (sramBytes * cfg.energy.sramPjPerByte) / 1e6;
  const dramUj = (dramBytes * cfg.energy.dramPjPerByte) / 1e6;
  const staticUj = cfg.energy.staticW * (cycles / (cfg.clockMHz * 1e6)) * 1e6;
  return { macUj, sramUj, dramUj, staticUj, totalUj: macUj + sramUj + dramUj + staticUj };
}

/** Builds a {@link GemmReport} from a plan and the raw counts. */
export function finishReport(cfg: FpgaConfig, plan: FoldPlan, mode: 'analytical' | 'cycle', raw: RawCounts): GemmReport {
  const { shape } = plan.workload;
  const dramBytes = raw.dramReadBytes + raw.dramWriteBytes;
  const dramBusyCycles = Math.ceil(dramBytes / dramBytesPerCycle(cfg));
  return {
    mode,
    config: cfg.name,
    dataflow: plan.dataflow,
    rows: plan.rows,
    cols: plan.cols,
    shape: { m: shape.m, k: shape.k, n: shape.n },
    pattern: patternName(plan.workload.sparsity),
    weightBits: plan.workload.weightBits,
    rowFolds: plan.rowFolds,
    colFolds: plan.colFolds,
    folds: plan.folds,
    cycles: raw.cycles,
    stallCycles: raw.stallCycles,
    switchStallCycles: raw.switchStallCycles,
    latencyMs: raw.cycles / (cfg.clockMHz * 1e3),
    macs: raw.macs,
    denseMacs: shape.m * shape.k * shape.n,
    utilization: raw.macs / (raw.cycles * plan.rows * plan.cols),
    dramReadBytes: raw.dramReadBytes,
    dramWriteBytes: raw.dramWriteBytes,
    dramBytes,
    sramBytes: raw.sramBytes,
    bound: dramBusyCycles > raw.computeBusyCycles ? 'memory' : 'compute',
    computeBusyCycles: raw.computeBusyCycles,
    dramBusyCycles,
    energy: energyOf(cfg, raw.macs, raw.sramBytes, dramBytes, raw.cycles),
    sramFits: !plan.sramOverflow && !plan.outputOverflow,
  };
}
