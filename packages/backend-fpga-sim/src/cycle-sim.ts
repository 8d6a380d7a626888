/**
 * The cycle-level simulator: every PE register, every shift of the
 * stationary-operand preload chains and the output drain chains, the DMA
 * engine and the fold controller are stepped one clock at a time, and the PEs
 * compute the actual integer result (INT4/INT8 weights × INT8 activations,
 * accumulators wrapping at `pe.accumulatorBits`). Data items carry their fold
 * and stream index as tags, and each PE checks that the stationary value or
 * accumulator it touches belongs to the same fold and that its two inputs are
 * aligned — a scheduling bug is an `E_INTERNAL` hazard, not a silently wrong
 * number. Meant for small shapes (tests, agreement with the analytical model,
 * the cycles-per-second benchmark).
 *
 * Geometry (docs/fpga.md): element `t` of fold `f` reaches PE(r, c) in cycle
 * `e_f + t + r + c`, where `e_f` is the cycle fold f enters the array.
 */
import { SparqError } from '@sparq/tensor';
import type { FpgaConfig } from './config';
import { dramTransferCycles } from './config';
import { selectorStagesOf } from './analytical';
import { type IntGemmOperands, validateIntOperands, wrapSigned } from './int-ops';
import { emptyTraffic, foldTraffic, type FoldPlan, type GemmWorkload, planFolds } from './mapping';
import { type GemmReport, finishReport } from './report';

/** Result of a cycle-level run: the report and the `[m, n]` integer output. */
export interface CycleSimResult {
  readonly report: GemmReport;
  /** `[m, n]` accumulator values (exact integers in a Float64Array). */
  readonly output: Float64Array;
  /** Cycle each fold entered the array (for tests and traces). */
  readonly foldEntry: readonly number[];
}

/** Options of {@link simulateGemmCycles}. */
export interface CycleSimOptions {
  /** Abort with `E_ARG` beyond this many simulated cycles (default 50 million). */
  readonly maxCycles?: number;
}

function hazard(msg: string): never {
  throw new SparqError('E_INTERNAL', `cycle simulator hazard: ${msg}`);
}

/** Simulates one integer GEMM cycle by cycle. */
export function simulateGemmCycles(
  cfg: FpgaConfig,
  workload: GemmWorkload,
  ops: IntGemmOperands,
  options: CycleSimOptions = {},
): CycleSimResult {
  const plan = planFolds(cfg, workload);
  validateIntOperands(workload, ops);
  return new CycleSim(cfg, plan, ops, options.maxCycles ?? 50_000_000).run();
}

class CycleSim {
  private readonly R: number;
  private readonly C: number;
  private readonly T: number;
  private readonly F: number;
  private readonly sel: number;
  private readonly os: boolean;
  private readonly ws: boolean;
  private readonly M: number;
  private readonly K: number;
  private readonly N: number;
  private readonly kc: number;
  private readonly keep: number;
  private readonly group: number;
  private readonly accBits: number;
  private readonly a: IntGemmOperands['a'];
  private readonly w: IntGemmOperands['w'];
  private readonly idx: Uint8Array | undefined;
  readonly out: Float64Array;

  // Controller / DMA state (NaN = not yet). Slot s < F carries fold s's loads; slot F is the tail write-back.
  private readonly depth: number;
  private readonly slotIssue: Float64Array;
  private readonly slotReady: Float64Array;
  private readonly slotBytes: Float64Array;
  private nextXfer = 0;
  private dataEnd = 0;
  private readonly entry: number[] = [];
  private readonly feedStart: number[] = [];
  private readonly preloadStart: number[] = [];
  private nextIssue = 0;
  private lastExit = -1;
  private macs = 0;
  private readonly hasTail: boolean;

  // Horizontal stream registers (cur/next).
  private hA: Int32Array;
  private hI: Int32Array;
  private hTag: Int32Array;
  private hT: Int32Array;
  private nA: Int32Array;
  private nI: Int32Array;
  private nTag: Int32Array;
  private nT: Int32Array;
  // Vertical registers: partial sums (ws/is) or the weight stream (os).
  private vS: Float64Array;
  private vI: Int32Array;
  private vTag: Int32Array;
  private vT: Int32Array;
  private mS: Float64Array;
  private mI: Int32Array;
  private mTag: Int32Array;
  private mT: Int32Array;
  // ws/is: double-buffered stationary registers [parity][r*C+c].
  private readonly stA: Int32Array[];
  private readonly stI: Int32Array[];
  private readonly stTag: Int32Array[];
  private readonly stRow: Int32Array[];
  // ws/is: the preload transit chain (one per column, shared by both parities: preloads never overlap in a column).
  private readonly trA: Int32Array;
  private readonly trI: Int32Array;
  private readonly trTag: Int32Array;
  private readonly trRow: Int32Array;
  // os: double-buffered accumulators and per-column drain chains.
  private readonly acc: Float64Array[];
  private readonly accTag: Int32Array[];
  private readonly accCount: Int32Array[];
  private readonly chainVal: Float64Array;
  private readonly chainPos: Int32Array;
  private readonly chainFold: Int32Array;
  private readonly copyAt: Float64Array;
  private readonly copyFold: Int32Array;

  constructor(
    private readonly cfg: FpgaConfig,
    private readonly plan: FoldPlan,
    ops: IntGemmOperands,
    private readonly maxCycles: number,
  ) {
    this.R = plan.rows;
    this.C = plan.cols;
    this.T = plan.t;
    this.F = plan.folds;
    this.sel = selectorStagesOf(cfg, plan);
    this.os = plan.dataflow === 'os';
    this.ws = plan.dataflow === 'ws';
    ({ m: this.M, k: this.K, n: this.N } = plan.workload.shape);
    this.kc = plan.kc;
    ({ keep: this.keep, group: this.group } = plan.workload.sparsity);
    this.accBits = cfg.pe.accumulatorBits;
    this.a = ops.a;
    this.w = ops.w;
    this.idx = ops.idx;
    this.out = new Float64Array(this.M * this.N);
    const RC = this.R * this.C;
    const i32 = () => new Int32Array(RC);
    const neg = () => new Int32Array(RC).fill(-1);
    [this.hA, this.hI, this.hTag, this.hT] = [i32(), i32(), neg(), i32()];
    [this.nA, this.nI, this.nTag, this.nT] = [i32(), i32(), neg(), i32()];
    [this.vS, this.vI, this.vTag, this.vT] = [new Float64Array(RC), i32(), neg(), i32()];
    [this.mS, this.mI, this.mTag, this.mT] = [new Float64Array(RC), i32(), neg(), i32()];
    this.stA = [i32(), i32()];
    this.stI = [i32(), i32()];
    this.stTag = [neg(), neg()];
    this.stRow = [neg(), neg()];
    [this.trA, this.trI, this.trTag, this.trRow] = [i32(), i32(), neg(), neg()];
    this.acc = [new Float64Array(RC), new Float64Array(RC)];
    this.accTag = [neg(), neg()];
    this.accCount = [i32(), i32()];
    this.chainVal = new Float64Array(RC);
    this.chainPos = new Int32Array(this.C).fill(-1);
    this.chainFold = new Int32Array(this.C).fill(-1);
    this.copyAt = new Float64Array(this.C).fill(Number.NaN);
    this.copyFold = new Int32Array(this.C).fill(-1);
    // DMA slots: slot f = loads of fold f + write-back of fold f−D's outputs; slot F = the tail write-back.
    const tr = emptyTraffic();
    const D = plan.prefetchDepth;
    this.depth = D;
    this.slotIssue = new Float64Array(this.F + 1).fill(Number.NaN);
    this.slotReady = new Float64Array(this.F + 1).fill(Number.NaN);
    this.slotBytes = new Float64Array(this.F + 1);
    const store = new Float64Array(this.F);
    for (let f = 0; f < this.F; f++) {
      foldTraffic(plan, f % plan.rowFolds, Math.floor(f / plan.rowFolds), tr);
      store[f] = tr.storeBytes;
      this.slotBytes[f] = tr.loadBytes + (f >= D ? store[f - D]! : 0);
    }
    for (let j = Math.max(0, this.F - D); j < this.F; j++) this.slotBytes[this.F]! += store[j]!;
    this.hasTail = this.slotBytes[this.F]! > 0;
  }


  private foldRC(f: number): [rf: number, cf: number] {
    return [f % this.plan.rowFolds, Math.floor(f / this.plan.rowFolds)];
  }

  /** True when no data is left in the array, no drain is pending and every fold has been fed. */
  private drained(x: number): boolean {
    if (this.entry.length < this.F) return false;
    const span = this.os ? Math.max(this.R, this.C) : this.R;
    if (x < this.entry[this.F - 1]! + span + this.T - 1) return false; // the last fold is still entering at an edge
    const RC = this.R * this.C;
    for (let i = 0; i < RC; i++) {
      const c = i % this.C;
      const r = (i - c) / this.C;
      if (this.hTag[i]! >= 0 && c < this.C - 1) return false;
      if (this.vTag[i]! >= 0 && r < this.R - 1) return false;
    }
    if (this.os) {
      for (let c = 0; c < this.C; c++) if (this.chainPos[c]! >= 0 || !Number.isNaN(this.copyAt[c]!)) return false;
    }
    return true;
  }

  /**
   * Controller decisions of cycle x, iterated to a fixpoint: DMA request issue
   * (a buffer slot is free once fold s−D+1's feeder has started), the DMA data
   * engine (one transfer at a time, each starting ≥ latency after its issue),
   * stationary-tile preload, and the feeder start of the next fold.
   */
  private control(x: number): void {
    const { F, T, R, sel, depth } = this;
    const lat = this.cfg.dram.latencyCycles;
    for (let changed = true; changed; ) {
      changed = false;
      const s = this.nextIssue;
      if (s < F || (s === F && this.hasTail)) {
        const free = s < F ? s < depth - 1 || (this.feedStart[s - depth + 1] !== undefined && this.feedStart[s - depth + 1]! <= x) : this.drained(x);
        if (free) {
          this.slotIssue[s] = x;
          if (this.slotBytes[s] === 0) this.slotReady[s] = x;
          this.nextIssue++;
          changed = true;
        }
      }
      const v = this.nextXfer;
      if (v < this.nextIssue) {
        if (this.slotBytes[v] === 0) {
          this.nextXfer++;
          changed = true;
        } else if (x >= this.slotIssue[v]! + lat && x >= this.dataEnd) {
          this.dataEnd = x + dramTransferCycles(this.cfg, this.slotBytes[v]!);
          this.slotReady[v] = this.dataEnd;
          this.nextXfer++;
          changed = true;
        }
      }
      const fp = this.preloadStart.length;
      if (!this.os && fp < F && this.slotReady[fp]! <= x && (fp === 0 || (this.entry[fp - 1] !== undefined && this.entry[fp - 1]! <= x))) {
        this.preloadStart.push(x);
        changed = true;
      }
      const f = this.entry.length;
      if (f < F && this.slotReady[f]! <= x) {
        const ePrev = f === 0 ? -Infinity : this.entry[f - 1]!;
        const port = x + sel >= ePrev + T;
        const ready = this.os ? x + sel >= ePrev + R : this.preloadStart[f] !== undefined && this.preloadStart[f]! + R <= x + sel;
        if (port && ready) {
          this.feedStart.push(x);
          this.entry.push(x + sel);
          changed = true;
        }
      }
    }
  }

  run(): CycleSimResult {
    let x = 0;
    let lastOut = Number.NaN;
    for (; ; x++) {
      if (x > this.maxCycles) {
        throw new SparqError('E_ARG', `cycle-level simulation exceeded ${this.maxCycles} cycles; use the analytical mode for this shape`, {
          details: { expected: `≤ ${this.maxCycles} cycles`, found: x },
        });
      }
      this.control(x);
      if (Number.isNaN(lastOut) && this.entry.length === this.F && this.drained(x)) lastOut = x;
      if (!Number.isNaN(lastOut)) {
        if (!this.hasTail) break;
        if (!Number.isNaN(this.slotReady[this.F]!) && x >= this.slotReady[this.F]!) break;
        continue;
      }
      if (this.os) this.tickOs(x);
      else this.tickStationary(x);
    }
    const cycles = this.hasTail ? this.slotReady[this.F]! : lastOut;
    return this.finish(cycles, lastOut);
  }

  private finish(cycles: number, lastOut: number): CycleSimResult {
    const { plan, cfg, T, R } = this;
    const interval = Math.max(T, R);
    let stall = 0;
    let switchStall = 0;
    for (let f = 0; f < this.F; f++) {
      const ideal = f === 0 ? (this.os ? this.sel : R) : this.entry[f - 1]! + interval;
      stall += this.entry[f]! - ideal;
      if (f > 0) switchStall += interval - T;
    }
    stall += cycles - lastOut;
    const tr = emptyTraffic();
    let dramRead = 0;
    let dramWrite = 0;
    let sram = 0;
    let macsPlanned = 0;
    for (let f = 0; f < this.F; f++) {
      const [rf, cf] = this.foldRC(f);
      foldTraffic(plan, rf, cf, tr);
      dramRead += tr.loadBytes;
      dramWrite += tr.storeBytes;
      sram += tr.sramBytes + tr.storeBytes;
      macsPlanned += tr.macs;
    }
    if (macsPlanned !== this.macs) hazard(`performed ${this.macs} MACs, the plan has ${macsPlanned}`);
    const report = finishReport(cfg, plan, 'cycle', {
      cycles,
      stallCycles: stall,
      switchStallCycles: switchStall,
      macs: this.macs,
      dramReadBytes: dramRead,
      dramWriteBytes: dramWrite,
      sramBytes: sram,
      computeBusyCycles: this.F * interval,
    });
    return { report, output: this.out, foldEntry: [...this.entry] };
  }

  /** Folds whose edge injection window contains cycle x. */
  private injecting(x: number, span: number): number[] {
    const res: number[] = [];
    for (let f = this.entry.length - 1; f >= 0; f--) {
      const e = this.entry[f]!;
      if (x >= e + span + this.T) break; // entries increase, so every older window has closed too
      if (x >= e) res.push(f);
    }
    return res;
  }

  private swapH(): void {
    [this.hA, this.nA] = [this.nA, this.hA];
    [this.hI, this.nI] = [this.nI, this.hI];
    [this.hTag, this.nTag] = [this.nTag, this.hTag];
    [this.hT, this.nT] = [this.nT, this.hT];
    [this.vS, this.mS] = [this.mS, this.vS];
    [this.vI, this.mI] = [this.mI, this.vI];
    [this.vTag, this.mTag] = [this.mTag, this.vTag];
    [this.vT, this.mT] = [this.mT, this.vT];
  }

  // ---- weight- and input-stationary -------------------------------------------------------

  private tickStationary(x: number): void {
    const { R, C, K, N, kc, keep, group, a, w, ws } = this;
    const idx = this.idx;
    const active = this.injecting(x, R);
    for (let r = 0; r < R; r++) {
      // Edge input of row r this cycle (at most one fold: folds enter ≥ T cycles apart).
      let eTag = -1;
      let eT = 0;
      let eA = 0;
      let eI = 0;
      for (const f of active) {
        const t = x - this.entry[f]! - r;
        if (t < 0 || t >= this.T) continue;
        const rr = (f % this.plan.rowFolds) * R + r;
        eTag = f;
        eT = t;
        if (ws) {
          eA = rr < kc ? t * K + Math.floor(rr / keep) * group : -1;
        } else {
          eA = rr < kc ? w[t * kc + rr]! : 0;
          eI = rr < kc ? (idx ? idx[t * kc + rr]! : 0) : -1;
        }
      }
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        let tag: number;
        let t: number;
        let hA: number;
        let hI: number;
        if (c === 0) {
          tag = eTag;
          t = eT;
          hA = eA;
          hI = eI;
        } else {
          tag = this.hTag[i - 1]!;
          t = this.hT[i - 1]!;
          hA = this.hA[i - 1]!;
          hI = this.hI[i - 1]!;
        }
        this.nTag[i] = tag;
        this.nT[i] = t;
        this.nA[i] = hA;
        this.nI[i] = hI;
        if (tag < 0) {
          this.mTag[i] = -1;
          continue;
        }
        const q = tag & 1;
        if (this.stTag[q]![i] !== tag || this.stRow[q]![i] !== r) {
          hazard(`PE(${r},${c}) cycle ${x}: fold ${tag} found stationary data of fold ${this.stTag[q]![i]} row ${this.stRow[q]![i]}`);
        }
        let sum = 0;
        if (r > 0) {
          if (this.vTag[i - C] !== tag || this.vT[i - C] !== t) hazard(`PE(${r},${c}) cycle ${x}: partial sum misaligned`);
          sum = this.vS[i - C]!;
        }
        const sA = this.stA[q]![i]!;
        const sI = this.stI[q]![i]!;
        if (ws) {
          if (hA >= 0 && sI >= 0) {
            sum += sA * a[hA + sI]!;
            this.macs++;
          }
        } else if (sA >= 0 && hI >= 0) {
          sum += hA * a[sA + hI]!;
          this.macs++;
        }
        sum = wrapSigned(sum, this.accBits);
        if (r === R - 1) {
          // The bottom PE's sum leaves the array into the output accumulator.
          this.mTag[i] = -1;
          const col = Math.floor(tag / this.plan.rowFolds) * C + c;
          const mm = ws ? t : col;
          const nn = ws ? col : t;
          if (ws ? col < N : col < this.M) this.out[mm * N + nn] = wrapSigned(this.out[mm * N + nn]! + sum, this.accBits);
          this.lastExit = x;
        } else {
          this.mTag[i] = tag;
          this.mT[i] = t;
          this.mS[i] = sum;
        }
      }
    }
    this.swapH();
    this.preloadShift(x);
  }

  /**
   * Preload transport: column c of the preload started at p shifts its transit chain during cycles
   * p+c … p+c+R−1, inserting the value for row R−1 first; a value is latched into the shadow
   * (inactive-parity) register of the row it is addressed to, so every row of the column latches in
   * cycle p+c+R−1 and the registers in use by the previous fold of that parity are never disturbed earlier.
   */
  private preloadShift(x: number): void {
    const { R, C, K, N, M, kc, keep, group, w, ws } = this;
    const idx = this.idx;
    const { trA, trI, trTag, trRow } = this;
    for (let f = this.preloadStart.length - 1; f >= 0; f--) {
      const p = this.preloadStart[f]!;
      if (x >= p + C + R) break;
      const [rf, cf] = this.foldRC(f);
      for (let c = 0; c < C; c++) {
        const s = x - p - c;
        if (s < 0 || s >= R) continue;
        for (let r = R - 1; r > 0; r--) {
          const i = r * C + c;
          trA[i] = trA[i - C]!;
          trI[i] = trI[i - C]!;
          trTag[i] = trTag[i - C]!;
          trRow[i] = trRow[i - C]!;
        }
        const target = R - 1 - s;
        const rr = rf * R + target;
        const col = cf * C + c;
        if (ws) {
          const real = col < N && rr < kc;
          trA[c] = real ? w[col * kc + rr]! : 0;
          trI[c] = real ? (idx ? idx[col * kc + rr]! : 0) : -1;
        } else {
          trA[c] = col < M && rr < kc ? col * K + Math.floor(rr / keep) * group : -1;
          trI[c] = 0;
        }
        trTag[c] = f;
        trRow[c] = target;
        for (let r = 0; r < R; r++) {
          const i = r * C + c;
          if (trTag[i]! === f && trRow[i] === r) {
            const q = f & 1;
            this.stA[q]![i] = trA[i]!;
            this.stI[q]![i] = trI[i]!;
            this.stTag[q]![i] = f;
            this.stRow[q]![i] = r;
            trTag[i] = -1;
          }
        }
      }
    }
  }

  // ---- output-stationary -------------------------------------------------------------------

  private tickOs(x: number): void {
    const { R, C, K, N, M, kc, keep, group, a, w, T } = this;
    const idx = this.idx;
    // Column drains: copy finished accumulators into the chain, then emit one value per cycle.
    for (let c = 0; c < C; c++) {
      if (this.copyAt[c] === x) {
        const f = this.copyFold[c]!;
        const q = f & 1;
        if (this.chainPos[c]! >= 0) hazard(`column ${c} cycle ${x}: drain chain still busy with fold ${this.chainFold[c]}`);
        for (let r = 0; r < R; r++) {
          const i = r * C + c;
          if (this.accTag[q]![i] !== f || this.accCount[q]![i] !== T) hazard(`PE(${r},${c}) cycle ${x}: accumulator of fold ${f} incomplete`);
          this.chainVal[i] = this.acc[q]![i]!;
          this.accTag[q]![i] = -1;
        }
        this.chainPos[c] = R - 1;
        this.chainFold[c] = f;
        this.copyAt[c] = Number.NaN;
      }
      const pos = this.chainPos[c]!;
      if (pos >= 0) {
        const [rf, cf] = this.foldRC(this.chainFold[c]!);
        const mm = rf * R + pos;
        const nn = cf * C + c;
        if (mm < M && nn < N) this.out[mm * N + nn] = this.chainVal[pos * C + c]!;
        this.chainPos[c] = pos - 1;
        this.lastExit = x;
      }
    }
    const active = this.injecting(x, Math.max(R, C));
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        // Activation group offset from the left, weight (value, index) from above.
        let hTag: number;
        let hT: number;
        let hA: number;
        if (c === 0) {
          hTag = -1;
          hT = 0;
          hA = -1;
          for (const f of active) {
            const t = x - this.entry[f]! - r;
            if (t < 0 || t >= T) continue;
            const mm = (f % this.plan.rowFolds) * R + r;
            hTag = f;
            hT = t;
            hA = mm < M ? mm * K + Math.floor(t / keep) * group : -1;
          }
        } else {
          hTag = this.hTag[i - 1]!;
          hT = this.hT[i - 1]!;
          hA = this.hA[i - 1]!;
        }
        let vTag: number;
        let vT: number;
        let vW: number;
        let vI: number;
        if (r === 0) {
          vTag = -1;
          vT = 0;
          vW = 0;
          vI = -1;
          for (const f of active) {
            const t = x - this.entry[f]! - c;
            if (t < 0 || t >= T) continue;
            const nn = Math.floor(f / this.plan.rowFolds) * C + c;
            vTag = f;
            vT = t;
            vW = nn < N ? w[nn * kc + t]! : 0;
            vI = nn < N ? (idx ? idx[nn * kc + t]! : 0) : -1;
          }
        } else {
          vTag = this.vTag[i - C]!;
          vT = this.vT[i - C]!;
          vW = this.vS[i - C]!;
          vI = this.vI[i - C]!;
        }
        this.nTag[i] = hTag;
        this.nT[i] = hT;
        this.nA[i] = hA;
        this.mTag[i] = vTag;
        this.mT[i] = vT;
        this.mS[i] = vW;
        this.mI[i] = vI;
        if (hTag < 0 && vTag < 0) continue;
        if (hTag !== vTag || hT !== vT) hazard(`PE(${r},${c}) cycle ${x}: operands of fold ${hTag}/${vTag} misaligned`);
        const q = hTag & 1;
        if (hT === 0) {
          if (this.accTag[q]![i] !== -1) hazard(`PE(${r},${c}) cycle ${x}: accumulator still holds fold ${this.accTag[q]![i]}`);
          this.accTag[q]![i] = hTag;
          this.acc[q]![i] = 0;
          this.accCount[q]![i] = 0;
        } else if (this.accTag[q]![i] !== hTag) hazard(`PE(${r},${c}) cycle ${x}: accumulator belongs to fold ${this.accTag[q]![i]}`);
        if (hA >= 0 && vI >= 0) {
          this.acc[q]![i] = wrapSigned(this.acc[q]![i]! + vW * a[hA + vI]!, this.accBits);
          this.macs++;
        }
        this.accCount[q]![i]!++;
        if (r === R - 1 && hT === T - 1) {
          // The column's bottom PE finished fold hTag: its accumulators are copied to the drain chain next cycle.
          this.copyAt[c] = x + 1;
          this.copyFold[c] = hTag;
        }
      }
    }
    this.swapH();
  }
}
