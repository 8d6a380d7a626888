/**
 * The `fpga-sim` Backend: runs the kernel contract on the simulated
 * accelerator. Each call is timed with the analytical model (its cycle counts
 * equal the cycle-level simulator's) for the weight's real layout — dense,
 * N:M pattern, code width, quantization group — and logged; the numbers are
 * produced by the functional model of the array: `a · decode(w)ᵀ` with float64
 * accumulation in ascending k, the order the array's reduction chain adds in,
 * so results equal the reference kernels bit for bit. (The integer datapath
 * itself, INT4/INT8 × INT8 with wrapping accumulators, is exercised by
 * {@link simulateGemmCycles}.)
 */
import {
  type Backend,
  type KernelTable,
  type PackedMatrix,
  SparqError,
  Tensor,
  createTableBackend,
  decodePacked,
  matmulDenseShape,
  validatePacked,
} from '@sparq/tensor';
import { analyzeGemm } from './analytical';
import { type FpgaConfig, type FpgaConfigInput, resolveFpgaConfig } from './config';
import { DENSE, type GemmWorkload, type SparsityPattern, planFolds } from './mapping';
import type { GemmReport } from './report';

/** One timed kernel call. */
export interface KernelRun {
  readonly kernel: string;
  readonly report: GemmReport;
}

/** Totals over the logged kernel calls. */
export interface BackendTotals {
  readonly calls: number;
  readonly cycles: number;
  readonly latencyMs: number;
  readonly stallCycles: number;
  readonly dramBytes: number;
  readonly energyUj: number;
}

/** A Backend with access to the simulated timing of the calls it ran. */
export interface FpgaSimBackend extends Backend {
  readonly config: FpgaConfig;
  /** Every kernel call since creation (or the last {@link FpgaSimBackend.resetRuns}). */
  runs(): readonly KernelRun[];
  totals(): BackendTotals;
  resetRuns(): void;
}

interface Ctx {
  cfg: FpgaConfig;
  log: KernelRun[];
}

/** `out[i, j] = Σ_p a[i, p] · W[j, p]` with float64 accumulation in ascending p (`W` is `[n, k]`). */
function arrayProduct(a: Float32Array, W: Float32Array | Float64Array, m: number, k: number, n: number): Tensor<'f32'> {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * W[j * k + p]!;
      out[i * n + j] = s;
    }
  }
  return new Tensor('f32', [m, n], out);
}

/** An empty GEMM (a zero dimension) does no work on the array: zeros `[m, n]`, nothing logged. */
function emptyProduct(m: number, n: number): Tensor<'f32'> {
  return new Tensor('f32', [m, n], new Float32Array(m * n));
}

/** The workload a packed weight runs as on the array. */
function packedWorkload(cfg: FpgaConfig, m: number, w: PackedMatrix): GemmWorkload {
  const shape = { m, k: w.cols, n: w.rows };
  switch (w.kind) {
    case 'quant':
      return { shape, sparsity: DENSE, weightBits: w.bits, quantGroupSize: w.groupSize };
    case 'nm':
      // f32 kept values are timed at the PE's weight width (they must be quantized to run on the INT datapath).
      return { shape, sparsity: { keep: w.n, group: w.m }, weightBits: cfg.pe.weightBits, quantGroupSize: 0 };
    case 'nm-quant':
      return { shape, sparsity: { keep: w.n, group: w.m }, weightBits: w.bits, quantGroupSize: w.groupSize };
    case 'spqr':
      return { shape, sparsity: DENSE, weightBits: w.bits, quantGroupSize: w.groupSize };
  }
}

function supportsWorkload(cfg: FpgaConfig, wl: GemmWorkload): true | string {
  try {
    planFolds(cfg, wl);
    return true;
  } catch (e) {
    return (e as Error).message;
  }
}

function packedKernel<K extends 'matmulQuant' | 'matmulNM' | 'matmulNMQuant' | 'matmulSpqr'>(name: K) {
  return {
    name,
    supports(inputs: { a: Tensor<'f32'>; w: PackedMatrix }, _attrs: unknown, ctx: Ctx): true | string {
      const m = inputs.a.rank === 2 ? inputs.a.shape[0]! : 1;
      if (m === 0 || inputs.w.rows === 0 || inputs.w.cols === 0) return true; // nothing to map onto the array
      return supportsWorkload(ctx.cfg, packedWorkload(ctx.cfg, m, inputs.w));
    },
    run(inputs: { a: Tensor<'f32'>; w: PackedMatrix }, _attrs: unknown, ctx: Ctx): Tensor<'f32'> {
      const { a, w } = inputs;
      validatePacked(w);
      if (a.rank !== 2 || a.shape[1] !== w.cols) {
        throw new SparqError('E_SHAPE_MISMATCH', `${name}: a is [${a.shape}] but the ${w.kind} weight has ${w.cols} columns`, {
          details: { expected: `[m, ${w.cols}]`, found: `[${a.shape}]` },
        });
      }
      const m = a.shape[0]!;
      if (m === 0 || w.rows === 0 || w.cols === 0) return emptyProduct(m, w.rows);
      ctx.log.push({ kernel: name, report: analyzeGemm(ctx.cfg, packedWorkload(ctx.cfg, m, w)) });
      return arrayProduct(a.data, decodePacked(w), m, w.cols, w.rows);
    },
  };
}

/**
 * Creates the simulated-FPGA backend for an architecture (defaults:
 * {@link DEFAULT_FPGA_CONFIG}). Kernels: matmulDense, matmulQuant, matmulNM,
 * matmulNMQuant, matmulSpqr; N:M patterns need `M ≤ pe.maxGroup`.
 */
export function createFpgaSimBackend(config: FpgaConfig | FpgaConfigInput = {}): FpgaSimBackend {
  const cfg = resolveFpgaConfig(config);
  const ctx: Ctx = { cfg, log: [] };
  const table: KernelTable<Ctx> = {
    matmulDense: {
      name: 'matmulDense',
      run(inputs, attrs, c) {
        const [m, k, n] = matmulDenseShape(inputs, attrs);
        if (m === 0 || k === 0 || n === 0) return emptyProduct(m, n);
        c.log.push({
          kernel: 'matmulDense',
          report: analyzeGemm(c.cfg, { shape: { m, k, n }, sparsity: DENSE, weightBits: c.cfg.pe.weightBits, quantGroupSize: 0 }),
        });
        // f16 / bf16 weights widen exactly to f32 (the simulated array computes in f32).
        const B = inputs.b.toF32().data;
        let W: Float32Array = B;
        if (!attrs.transposeB) {
          // The array holds weights as [n, k] rows (output features); transpose the [k, n] operand.
          W = new Float32Array(n * k);
          for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) W[j * k + p] = B[p * n + j]!;
        }
        return arrayProduct(inputs.a.data, W, m, k, n);
      },
    },
    matmulQuant: packedKernel('matmulQuant'),
    matmulNM: packedKernel('matmulNM'),
    matmulNMQuant: packedKernel('matmulNMQuant'),
    matmulSpqr: packedKernel('matmulSpqr'),
  };
  const base = createTableBackend('fpga-sim', table, ctx);
  return Object.assign(base, {
    config: cfg,
    runs: () => ctx.log.slice(),
    resetRuns: () => {
      ctx.log.length = 0;
    },
    totals: (): BackendTotals => {
      let cycles = 0;
      let stall = 0;
      let dram = 0;
      let energy = 0;
      for (const r of ctx.log) {
        cycles += r.report.cycles;
        stall += r.report.stallCycles;
        dram += r.report.dramBytes;
        energy += r.report.energy.totalUj;
      }
      return { calls: ctx.log.length, cycles, latencyMs: cycles / (cfg.clockMHz * 1e3), stallCycles: stall, dramBytes: dram, energyUj: energy };
    },
  });
}

/** The sparsity pattern of a packed weight (dense for quant/spqr). */
export function packedPattern(w: PackedMatrix): SparsityPattern {
  return w.kind === 'nm' || w.kind === 'nm-quant' ? { keep: w.n, group: w.m } : DENSE;
}
