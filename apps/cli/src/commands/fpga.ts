/**
 * `sparq fpga simulate` (one GEMM on the simulated systolic-array accelerator)
 * and `sparq fpga model <shape> --plan <file>` (a whole LLaMA-shaped model
 * under a compression plan, against the dense INT8 baseline). Formulas and
 * config fields: docs/fpga.md.
 */
import { type ArgsDef, defineCommand } from 'citty';
import {
  DENSE,
  type FpgaConfig,
  type GemmReport,
  type ModelPhase,
  type ModelRunReport,
  analyzeGemm,
  decodePhase,
  estimateResources,
  modelShape,
  parsePattern,
  patternName,
  prefillPhase,
  readFpgaConfigFile,
  readPlanFile,
  resolveFpgaConfig,
  scaleSimGemm,
  simulateGemmCycles,
  simulateModel,
  uniformPlan,
} from '@sparq/backend-fpga-sim';
import { SparqError, createRng } from '@sparq/tensor';
import { assertKnownFlags, intArg, outputArgs } from '../options';
import { type Io, printResult } from '../output';

/** Architecture options shared by both subcommands. */
const archArgs = {
  config: { type: 'string', description: 'architecture JSON (docs/fpga.md); flags below override it', valueHint: 'file' },
  rows: { type: 'string', description: 'PE array rows', valueHint: 'R' },
  cols: { type: 'string', description: 'PE array columns', valueHint: 'C' },
  dataflow: { type: 'string', description: 'os (output-), ws (weight-) or is (input-stationary)', valueHint: 'os|ws|is' },
} as const satisfies ArgsDef;

const simulateArgs = {
  gemm: { type: 'string', description: 'GEMM shape MxKxN: activations M×K times weights K×N', required: true, valueHint: 'MxKxN' },
  pattern: { type: 'string', description: 'N:M weight sparsity (N kept of every M along K), or dense (default)', valueHint: 'N:M' },
  bits: { type: 'string', description: 'weight code bits: 2, 3, 4 or 8 (default 8)', valueHint: 'B' },
  groupSize: { type: 'string', description: 'quantization group along K, one f16 scale each (default 128; 0 = none)', valueHint: 'G' },
  compat: { type: 'string', description: 'scalesim: reproduce SCALE-Sim v2 analytical timing instead of the default model', valueHint: 'scalesim' },
  mode: { type: 'string', description: 'analytical (default, any size) or cycle (cycle-level, small shapes, random INT data)', valueHint: 'analytical|cycle' },
  ...archArgs,
  ...outputArgs,
} as const satisfies ArgsDef;

const modelArgs = {
  shape: { type: 'positional', description: 'model shape: llama-7b, llama-13b or stories260k', required: true },
  plan: { type: 'string', description: 'plan JSON mapping layer-name globs to pattern/bits (docs/fpga.md)', required: true, valueHint: 'file' },
  phase: { type: 'string', description: 'decode (batch 1), prefill, or both (default)', valueHint: 'decode|prefill|both' },
  tokens: { type: 'string', description: 'prefill length (default 128)', valueHint: 'N' },
  context: { type: 'string', description: 'decode context length, cached tokens (default 128)', valueHint: 'N' },
  ...archArgs,
  ...outputArgs,
} as const satisfies ArgsDef;

/** Both subcommands' flags, for the top-level strict flag check (each subcommand re-checks its own). */
const fpgaArgs = { ...simulateArgs, ...modelArgs } as const satisfies ArgsDef;

function loadConfig(a: { config?: string; rows?: string; cols?: string; dataflow?: string }): FpgaConfig {
  const base = a.config ? readFpgaConfigFile(a.config) : resolveFpgaConfig({});
  const rows = intArg('rows', a.rows, { min: 1, max: 4096 });
  const cols = intArg('cols', a.cols, { min: 1, max: 4096 });
  if (a.dataflow !== undefined && !['os', 'ws', 'is'].includes(a.dataflow)) {
    throw new SparqError('E_ARG', `--dataflow must be os, ws or is, found "${a.dataflow}"`, { details: { expected: 'os|ws|is', found: a.dataflow } });
  }
  return resolveFpgaConfig(
    {
      ...base,
      array: {
        ...base.array,
        ...(rows !== undefined ? { rows } : {}),
        ...(cols !== undefined ? { cols } : {}),
        ...(a.dataflow !== undefined ? { dataflow: a.dataflow as 'os' | 'ws' | 'is' } : {}),
      },
    },
    a.config ?? 'flags',
  );
}

function parseGemm(s: string): { m: number; k: number; n: number } {
  const mm = /^(\d+)x(\d+)x(\d+)$/i.exec(s.trim());
  if (!mm || [mm[1], mm[2], mm[3]].some((v) => Number(v) < 1)) {
    throw new SparqError('E_ARG', `--gemm must be MxKxN with positive integers (e.g. 128x4096x4096), found "${s}"`, {
      details: { expected: 'MxKxN', found: s },
    });
  }
  return { m: Number(mm[1]), k: Number(mm[2]), n: Number(mm[3]) };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

function reportLines(r: GemmReport): string[] {
  const e = r.energy;
  return [
    `cycles ${fmt(r.cycles)} (${r.latencyMs.toFixed(4)} ms) · utilization ${(100 * r.utilization).toFixed(1)}% · ${r.bound}-bound`,
    `stall cycles ${fmt(r.stallCycles)} (DRAM) · switch-bound cycles ${fmt(r.switchStallCycles)} · folds ${r.rowFolds}×${r.colFolds}`,
    `DRAM ${mb(r.dramBytes)} (read ${mb(r.dramReadBytes)}, write ${mb(r.dramWriteBytes)}) · SRAM ${mb(r.sramBytes)}`,
    `energy ${(e.totalUj / 1000).toFixed(4)} mJ (MAC ${(e.macUj / 1000).toFixed(4)}, SRAM ${(e.sramUj / 1000).toFixed(4)}, DRAM ${(e.dramUj / 1000).toFixed(4)}, static ${(e.staticUj / 1000).toFixed(4)})`,
    ...(r.sramFits ? [] : ['warning: the buffers cannot hold two fold tiles or a column fold\'s partial sums (sramFits: false); timing assumes they do']),
  ];
}

function resourceLine(cfg: FpgaConfig): { json: ReturnType<typeof estimateResources>; text: string } {
  const r = estimateResources(cfg);
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const text =
    `resources: DSP ${fmt(r.dsp)} (${pct(r.utilization.dsp)}) · LUT ${fmt(r.lut)} (${pct(r.utilization.lut)}) · FF ${fmt(r.ff)} (${pct(r.utilization.ff)}) · ` +
    `BRAM36 ${r.bram36} · URAM ${r.uram} — ${r.fits ? `fits ${r.device}` : `does NOT fit ${r.device}: ${r.violations.join('; ')}`}`;
  return { json: r, text };
}

/** Random INT8 activations and INT`bits` kept weights with sorted N:M indices, for `--mode cycle`. */
function randomIntOperands(m: number, k: number, n: number, keep: number, group: number, bits: number) {
  const rng = createRng(1);
  const kc = (k / group) * keep;
  const a = Int8Array.from({ length: m * k }, () => rng.int(256) - 128);
  const w = Int8Array.from({ length: n * kc }, () => rng.int(2 ** bits) - 2 ** (bits - 1));
  const idx = new Uint8Array(n * kc);
  for (let g = 0; g < (n * kc) / keep; g++) {
    const pos = Array.from({ length: group }, (_, i) => i);
    for (let i = group - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [pos[i], pos[j]] = [pos[j]!, pos[i]!];
    }
    pos.slice(0, keep).sort((x, y) => x - y).forEach((p, s) => (idx[g * keep + s] = p));
  }
  return { a, w, ...(group > 1 ? { idx } : {}) };
}

function simulateCommand(io: Io) {
  return defineCommand({
    meta: { name: 'simulate', description: 'time one GEMM on the simulated systolic-array accelerator' },
    args: simulateArgs,
    async run({ args: a, rawArgs }) {
      assertKnownFlags('fpga simulate', simulateArgs, rawArgs);
      const cfg = loadConfig(a);
      const shape = parseGemm(a.gemm);
      const sparsity = a.pattern ? parsePattern(a.pattern) : DENSE;
      const bits = intArg('bits', a.bits, { min: 2, max: 8 }) ?? 8;
      if (![2, 3, 4, 8].includes(bits)) throw new SparqError('E_ARG', `--bits must be 2, 3, 4 or 8, found "${a.bits}"`, { details: { expected: '2|3|4|8', found: a.bits } });
      const quantGroupSize = intArg('group-size', a.groupSize, { min: 0 }) ?? 128;
      const res = resourceLine(cfg);
      const arch = `${cfg.name} (${cfg.array.rows}×${cfg.array.cols} ${cfg.array.dataflow}, ${cfg.clockMHz} MHz)`;
      if (a.compat !== undefined) {
        if (a.compat !== 'scalesim') throw new SparqError('E_ARG', `--compat must be scalesim, found "${a.compat}"`, { details: { expected: 'scalesim', found: a.compat } });
        if (sparsity.group !== 1) {
          throw new SparqError('E_ARG', '--compat scalesim models dense GEMMs only (SCALE-Sim v2 has no N:M selector)', {
            details: { expected: 'dense', found: a.pattern },
          });
        }
        const s = scaleSimGemm(cfg.array.rows, cfg.array.cols, cfg.array.dataflow, shape);
        // SCALE-Sim counts 1-byte words; DRAM bytes come from this simulator's fold traffic for the same mapping.
        const own = analyzeGemm(cfg, { shape, sparsity: DENSE, weightBits: 8, quantGroupSize: 0 });
        const result = {
          compat: 'scalesim',
          shape,
          dataflow: cfg.array.dataflow,
          rows: cfg.array.rows,
          cols: cfg.array.cols,
          cycles: s.totalCycles,
          utilization: s.overallUtilPct / 100,
          stallCycles: s.stallCycles,
          dramBytes: own.dramBytes,
          latencyMs: s.totalCycles / (cfg.clockMHz * 1e3),
          scalesim: s,
        };
        printResult(io, Boolean(a.json), result, () =>
          [
            `SCALE-Sim v2 compatible: ${shape.m}x${shape.k}x${shape.n} (M×K×N) on ${cfg.array.rows}×${cfg.array.cols} ${cfg.array.dataflow}`,
            `total cycles ${fmt(s.totalCycles)} · stall 0 · overall util ${s.overallUtilPct.toFixed(2)}% · mapping eff ${s.mappingEfficiencyPct.toFixed(2)}% · compute util ${s.computeUtilPct.toFixed(2)}%`,
            `folds ${s.rowFolds}×${s.colFolds} of ${s.cyclesPerFold} cycles · SRAM reads ifmap ${fmt(s.ifmapSramReads)}, filter ${fmt(s.filterSramReads)}, ofmap writes ${fmt(s.ofmapSramWrites)}`,
          ].join('\n'),
        );
        return;
      }
      const mode = a.mode ?? 'analytical';
      if (mode !== 'analytical' && mode !== 'cycle') throw new SparqError('E_ARG', `--mode must be analytical or cycle, found "${mode}"`, { details: { expected: 'analytical|cycle', found: mode } });
      const workload = { shape, sparsity, weightBits: bits, quantGroupSize };
      const report =
        mode === 'analytical'
          ? analyzeGemm(cfg, workload)
          : simulateGemmCycles(cfg, workload, randomIntOperands(shape.m, shape.k, shape.n, sparsity.keep, sparsity.group, bits), { maxCycles: 20_000_000 }).report;
      const result = { ...report, resources: res.json };
      printResult(io, Boolean(a.json), result, () =>
        [
          `fpga ${mode}: ${shape.m}x${shape.k}x${shape.n} (M×K×N) ${patternName(sparsity)} INT${bits} on ${arch}`,
          ...reportLines(report),
          res.text,
        ].join('\n'),
      );
    },
  });
}

function phaseResult(r: ModelRunReport, base: ModelRunReport) {
  return {
    phase: r.phase,
    cycles: r.cycles,
    latencyMs: r.latencyMs,
    tokensPerSecond: r.tokensPerSecond,
    energyMj: r.energyMj,
    energyPerTokenMj: r.energyPerTokenMj,
    dramBytes: r.dramBytes,
    stallCycles: r.stallCycles,
    utilization: r.utilization,
    memoryBoundFraction: r.memoryBoundFraction,
    speedupVsDenseInt8: base.cycles / r.cycles,
    energyVsDenseInt8: r.energyMj / base.energyMj,
    baseline: { plan: base.plan, cycles: base.cycles, latencyMs: base.latencyMs, energyMj: base.energyMj, dramBytes: base.dramBytes },
    gemms: r.gemms.map((g) => ({
      name: g.name,
      count: g.count,
      shape: g.report.shape,
      pattern: g.report.pattern,
      bits: g.report.weightBits,
      cycles: g.report.cycles,
      bound: g.report.bound,
      dramBytes: g.report.dramBytes,
    })),
  };
}

function modelCommand(io: Io) {
  return defineCommand({
    meta: { name: 'model', description: 'time a whole LLaMA-shaped model under a compression plan vs. dense INT8' },
    args: modelArgs,
    async run({ args: a, rawArgs }) {
      assertKnownFlags('fpga model', modelArgs, rawArgs);
      const cfg = loadConfig(a);
      const shape = modelShape(a.shape);
      const plan = readPlanFile(a.plan);
      const which = a.phase ?? 'both';
      if (!['decode', 'prefill', 'both'].includes(which)) {
        throw new SparqError('E_ARG', `--phase must be decode, prefill or both, found "${which}"`, { details: { expected: 'decode|prefill|both', found: which } });
      }
      const tokens = intArg('tokens', a.tokens, { min: 1 }) ?? 128;
      const context = intArg('context', a.context, { min: 1 }) ?? 128;
      const phases: ModelPhase[] = [];
      if (which !== 'prefill') phases.push(decodePhase(context));
      if (which !== 'decode') phases.push(prefillPhase(tokens));
      const t0 = performance.now();
      const results = phases.map((ph) => phaseResult(simulateModel(cfg, shape, ph, plan), simulateModel(cfg, shape, ph, uniformPlan(DENSE, 8, plan.quantGroupSize))));
      const res = resourceLine(cfg);
      const result = { shape: shape.name, plan: plan.name, config: cfg, resources: res.json, simulationSeconds: (performance.now() - t0) / 1000, phases: results };
      printResult(io, Boolean(a.json), result, () =>
        [
          `fpga model ${shape.name} · plan ${plan.name} · ${cfg.name} (${cfg.array.rows}×${cfg.array.cols} ${cfg.array.dataflow}, ${cfg.clockMHz} MHz, ${cfg.dram.bandwidthGBs} GB/s)`,
          ...results.map(
            (p) =>
              `${p.phase.kind} (${p.phase.tokens} token${p.phase.tokens === 1 ? '' : 's'}, context ${p.phase.context}): ${p.latencyMs.toFixed(3)} ms · ${p.tokensPerSecond.toFixed(2)} tok/s · ` +
              `${p.energyPerTokenMj.toFixed(2)} mJ/token · DRAM ${mb(p.dramBytes)} · speed-up ${p.speedupVsDenseInt8.toFixed(2)}× and energy ${(100 * p.energyVsDenseInt8).toFixed(1)}% vs dense INT8`,
          ),
          res.text,
        ].join('\n'),
      );
    },
  });
}

/** Builds `sparq fpga` with its subcommands (the Io is injected for tests). */
export function fpgaCommand(io: Io) {
  return defineCommand({
    meta: { name: 'fpga', description: 'simulate the systolic-array FPGA accelerator: one GEMM or a whole model' },
    args: {},
    subCommands: { simulate: simulateCommand(io), model: modelCommand(io) },
  });
}

/** The union of the subcommands' flags, for the strict flag check in cli.ts. */
export { fpgaArgs };
