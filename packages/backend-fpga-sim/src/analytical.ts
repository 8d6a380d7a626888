/**
 * The fast analytical timing model: a per-fold recurrence over the fold grid
 * (O(folds), no per-cycle work) whose cycle counts equal the cycle-level
 * simulator's exactly — the recurrence is the closed form of the cycle-level
 * controller's rules (docs/fpga.md, "Default timing model"):
 *
 * - DMA slot f (loads of fold f plus the write-back of fold f−D's outputs, D
 *   the prefetch depth) is issued once fold f−D+1's feeder has started (its
 *   buffer slot is then free); requests are pipelined, so its data arrive at
 *   `max(issue + latency, end of the previous transfer) + ceil(bytes / bytesPerCycle)`.
 * - ws/is: the next stationary tile is preloaded into the PEs' shadow
 *   registers (R shift cycles, skewed per column) once its data is in SRAM and
 *   the previous fold has entered the array.
 * - fold f enters the array at `e_f = max(e_{f−1} + T, p_f + R, slotEnd_f + sel)`
 *   (ws/is) or `max(e_{f−1} + max(T, R), slotEnd_f + sel)` (os, where R is the
 *   per-column output drain chain), `sel` being the selector pipeline stages
 *   of sparse runs.
 * - the last output leaves at `e_last + T + R + C − 2` (ws/is) or
 *   `e_last + T + 2R + C − 2` (os: plus the R-cycle drain), then the remaining
 *   outputs are written back.
 */
import type { FpgaConfig } from './config';
import { dramTransferCycles } from './config';
import { emptyTraffic, foldTraffic, type FoldPlan, type GemmWorkload, planFolds } from './mapping';
import { type GemmReport, type RawCounts, finishReport } from './report';

/** Selector pipeline stages in effect for a plan (0 for dense). */
export function selectorStagesOf(cfg: FpgaConfig, plan: FoldPlan): number {
  return plan.workload.sparsity.group > 1 ? Math.min(cfg.pe.selectorStages, plan.rows) : 0;
}

/** Runs the analytical recurrence over a prepared plan. */
export function analyzePlan(cfg: FpgaConfig, plan: FoldPlan): RawCounts {
  const R = plan.rows;
  const C = plan.cols;
  const T = plan.t;
  const os = plan.dataflow === 'os';
  const sel = selectorStagesOf(cfg, plan);
  const lat = cfg.dram.latencyCycles;
  const depth = plan.prefetchDepth;
  const interval = Math.max(T, R);
  const tr = emptyTraffic();
  // Ring buffers over the last `depth` folds: feeder-start cycles and completed-output bytes.
  const feedRing = new Float64Array(depth);
  const storeRing = new Float64Array(depth);

  let macs = 0;
  let dramRead = 0;
  let dramWrite = 0;
  let sram = 0;
  let stall = 0;
  let switchStall = 0;
  let dataEnd = 0; // when the DMA data engine finishes its last transfer
  let ePrev = 0;
  let f = 0;
  for (let cf = 0; cf < plan.colFolds; cf++) {
    for (let rf = 0; rf < plan.rowFolds; rf++, f++) {
      foldTraffic(plan, rf, cf, tr);
      macs += tr.macs;
      dramRead += tr.loadBytes;
      dramWrite += tr.storeBytes;
      sram += tr.sramBytes + tr.storeBytes;
      // Slot f: issued once fold f−depth+1's feeder has started (its buffer slot is then free),
      // carries fold f's loads plus the write-back of fold f−depth's outputs.
      const slot = f % depth;
      const issue = f < depth - 1 ? 0 : feedRing[(f - depth + 1) % depth]!;
      const bytes = tr.loadBytes + (f >= depth ? storeRing[slot]! : 0);
      let ready = issue;
      if (bytes > 0) {
        dataEnd = Math.max(issue + lat, dataEnd) + dramTransferCycles(cfg, bytes);
        ready = dataEnd;
      }
      let e: number;
      let ideal: number;
      if (f === 0) {
        e = os ? ready + sel : Math.max(ready + R, ready + sel);
        ideal = os ? sel : R;
      } else {
        if (os) e = Math.max(ePrev + interval, ready + sel);
        else e = Math.max(ePrev + T, Math.max(ready, ePrev) + R, ready + sel);
        ideal = ePrev + interval;
        switchStall += interval - T;
      }
      stall += e - ideal;
      ePrev = e;
      feedRing[slot] = e - sel;
      storeRing[slot] = tr.storeBytes;
    }
  }
  const lastOut = ePrev + T + (os ? 2 * R : R) + C - 2;
  let tailBytes = 0;
  for (let j = Math.max(0, plan.folds - depth); j < plan.folds; j++) tailBytes += storeRing[j % depth]!;
  const cycles = tailBytes > 0 ? Math.max(lastOut + lat, dataEnd) + dramTransferCycles(cfg, tailBytes) : lastOut;
  stall += cycles - lastOut;
  return {
    cycles,
    stallCycles: stall,
    switchStallCycles: switchStall,
    macs,
    dramReadBytes: dramRead,
    dramWriteBytes: dramWrite,
    sramBytes: sram,
    computeBusyCycles: plan.folds * interval,
  };
}

/** Simulates one GEMM with the analytical model. */
export function analyzeGemm(cfg: FpgaConfig, workload: GemmWorkload): GemmReport {
  const plan = planFolds(cfg, workload);
  return finishReport(cfg, plan, 'analytical', analyzePlan(cfg, plan));
}
