/**
 * Model-level runs: every GEMM of a decoder-only LLaMA-shaped transformer
 * (one decode step at batch 1, or a prefill of N tokens) timed with the
 * analytical model under a compression plan, with totals, energy, the
 * resource fit, and comparisons against the dense INT8 baseline on the same
 * array. Layers run one after another (no overlap between GEMMs); each unique
 * GEMM is simulated once and multiplied by its count.
 */
import { SparqError, isSparqError } from '@sparq/tensor';
import { analyzeGemm } from './analytical';
import type { FpgaConfig } from './config';
import { DENSE, type GemmWorkload, patternName } from './mapping';
import { type CompressionPlan, choiceFor, uniformPlan } from './plan';
import type { GemmReport } from './report';
import { type ResourceReport, estimateResources } from './resources';

/** Transformer dimensions. */
export interface ModelShape {
  readonly name: string;
  readonly hidden: number;
  readonly intermediate: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
}

/** Known shapes (published configs of LLaMA-1/2 7B and 13B, and stories260K from /work/shared). */
export const MODEL_SHAPES: Readonly<Record<string, ModelShape>> = {
  'llama-7b': { name: 'llama-7b', hidden: 4096, intermediate: 11008, layers: 32, heads: 32, kvHeads: 32, headDim: 128, vocab: 32000 },
  'llama-13b': { name: 'llama-13b', hidden: 5120, intermediate: 13824, layers: 40, heads: 40, kvHeads: 40, headDim: 128, vocab: 32000 },
  stories260k: { name: 'stories260k', hidden: 64, intermediate: 172, layers: 5, heads: 8, kvHeads: 4, headDim: 8, vocab: 512 },
};

/** Looks a shape up by name (case-insensitive), `E_ARG` naming the known ones otherwise. */
export function modelShape(name: string): ModelShape {
  const s = MODEL_SHAPES[name.toLowerCase()];
  if (!s) {
    throw new SparqError('E_ARG', `unknown model shape "${name}"`, {
      details: { expected: Object.keys(MODEL_SHAPES), found: name },
      hint: `known shapes: ${Object.keys(MODEL_SHAPES).join(', ')}`,
    });
  }
  return s;
}

/** Which pass to time. */
export interface ModelPhase {
  /** `decode`: one token at batch 1 against `context` cached tokens; `prefill`: `tokens` tokens at once. */
  readonly kind: 'decode' | 'prefill';
  /** Tokens processed (1 for decode). */
  readonly tokens: number;
  /** Attention context length (decode: cached tokens; prefill: = tokens). */
  readonly context: number;
}

/** A decode step at batch 1 with `context` cached tokens. */
export const decodePhase = (context = 128): ModelPhase => ({ kind: 'decode', tokens: 1, context });
/** A prefill of `tokens` tokens. */
export const prefillPhase = (tokens = 128): ModelPhase => ({ kind: 'prefill', tokens, context: tokens });

/** One GEMM kind of the model with how often it runs. */
export interface ModelGemm {
  /** A representative layer name (the first occurrence), e.g. `model.layers.0.mlp.down_proj`. */
  readonly name: string;
  readonly count: number;
  /** `true` for weight GEMMs (planned), `false` for attention's activation × activation GEMMs (dense INT8). */
  readonly planned: boolean;
  readonly report: GemmReport;
}

/** Totals of a model-level run. */
export interface ModelRunReport {
  readonly shape: string;
  readonly phase: ModelPhase;
  readonly config: string;
  readonly plan: string;
  readonly gemms: readonly ModelGemm[];
  readonly cycles: number;
  readonly latencyMs: number;
  readonly tokensPerSecond: number;
  readonly stallCycles: number;
  readonly macs: number;
  readonly dramBytes: number;
  readonly energyMj: number;
  readonly energyPerTokenMj: number;
  readonly utilization: number;
  /** Share of cycles spent in memory-bound GEMMs. */
  readonly memoryBoundFraction: number;
  readonly resources: ResourceReport;
}

interface GemmSpec {
  name: string;
  m: number;
  k: number;
  n: number;
  planned: boolean;
}

/** The GEMMs of one forward pass, layer by layer, with HF-style names. */
export function modelGemms(shape: ModelShape, phase: ModelPhase): GemmSpec[] {
  const t = phase.tokens;
  const { hidden: h, intermediate: f, heads, kvHeads, headDim: d } = shape;
  const out: GemmSpec[] = [];
  for (let l = 0; l < shape.layers; l++) {
    const p = `model.layers.${l}`;
    out.push({ name: `${p}.self_attn.q_proj`, m: t, k: h, n: heads * d, planned: true });
    out.push({ name: `${p}.self_attn.k_proj`, m: t, k: h, n: kvHeads * d, planned: true });
    out.push({ name: `${p}.self_attn.v_proj`, m: t, k: h, n: kvHeads * d, planned: true });
    // Attention proper, per head: scores = q·Kᵀ and context = softmax·V (activation × activation, dense INT8).
    for (let hd = 0; hd < heads; hd++) {
      out.push({ name: `${p}.self_attn.scores`, m: t, k: d, n: phase.context, planned: false });
      out.push({ name: `${p}.self_attn.context`, m: t, k: phase.context, n: d, planned: false });
    }
    out.push({ name: `${p}.self_attn.o_proj`, m: t, k: heads * d, n: h, planned: true });
    out.push({ name: `${p}.mlp.gate_proj`, m: t, k: h, n: f, planned: true });
    out.push({ name: `${p}.mlp.up_proj`, m: t, k: h, n: f, planned: true });
    out.push({ name: `${p}.mlp.down_proj`, m: t, k: f, n: h, planned: true });
  }
  // Only the last position's logits are needed, in decode and prefill alike.
  out.push({ name: 'lm_head', m: 1, k: h, n: shape.vocab, planned: true });
  return out;
}

/** Times every GEMM of `shape` under `plan` with the analytical model. */
export function simulateModel(cfg: FpgaConfig, shape: ModelShape, phase: ModelPhase, plan: CompressionPlan): ModelRunReport {
  const cache = new Map<string, GemmReport>();
  const groups = new Map<string, { name: string; count: number; planned: boolean; report: GemmReport }>();
  for (const g of modelGemms(shape, phase)) {
    const choice = g.planned ? choiceFor(plan, g.name) : { pattern: DENSE, bits: 8 };
    const workload: GemmWorkload = {
      shape: { m: g.m, k: g.k, n: g.n },
      sparsity: choice.pattern,
      weightBits: choice.bits,
      quantGroupSize: g.planned ? plan.quantGroupSize : 0,
    };
    const key = `${g.m}x${g.k}x${g.n}/${patternName(choice.pattern)}/${choice.bits}/${workload.quantGroupSize}`;
    let report = cache.get(key);
    if (!report) {
      try {
        report = analyzeGemm(cfg, workload);
      } catch (e) {
        if (isSparqError(e)) {
          throw new SparqError(e.code, `layer ${g.name}: ${e.message}`, { details: { ...e.details, layer: g.name }, ...(e.hint ? { hint: e.hint } : {}), cause: e });
        }
        throw e;
      }
      cache.set(key, report);
    }
    // Group by layer kind (the name without the layer index) and GEMM key.
    const kind = `${g.name.replace(/layers\.\d+\./, 'layers.*.')}|${key}`;
    const grp = groups.get(kind);
    if (grp) grp.count++;
    else groups.set(kind, { name: g.name, count: 1, planned: g.planned, report });
  }
  let cycles = 0;
  let stall = 0;
  let macs = 0;
  let dram = 0;
  let energyUj = 0;
  let memCycles = 0;
  let peCycles = 0;
  const gemms: ModelGemm[] = [];
  for (const g of groups.values()) {
    const r = g.report;
    cycles += g.count * r.cycles;
    stall += g.count * r.stallCycles;
    macs += g.count * r.macs;
    dram += g.count * r.dramBytes;
    energyUj += g.count * r.energy.totalUj;
    if (r.bound === 'memory') memCycles += g.count * r.cycles;
    peCycles += g.count * r.cycles * r.rows * r.cols;
    gemms.push({ name: g.name, count: g.count, planned: g.planned, report: r });
  }
  const latencyMs = cycles / (cfg.clockMHz * 1e3);
  return {
    shape: shape.name,
    phase,
    config: cfg.name,
    plan: plan.name,
    gemms,
    cycles,
    latencyMs,
    tokensPerSecond: (phase.tokens * 1000) / latencyMs,
    stallCycles: stall,
    macs,
    dramBytes: dram,
    energyMj: energyUj / 1000,
    energyPerTokenMj: energyUj / 1000 / phase.tokens,
    utilization: macs / peCycles,
    memoryBoundFraction: memCycles / cycles,
    resources: estimateResources(cfg),
  };
}

/** One row of a plan comparison. */
export interface PlanComparison {
  readonly plan: string;
  readonly cycles: number;
  readonly latencyMs: number;
  readonly tokensPerSecond: number;
  readonly energyMj: number;
  readonly dramBytes: number;
  /** Baseline cycles / these cycles. */
  readonly speedup: number;
  /** These joules / baseline joules. */
  readonly energyRatio: number;
}

/** Runs each plan and the dense INT8 baseline on the same array and phase; speed-up and energy relative to the baseline. */
export function comparePlans(cfg: FpgaConfig, shape: ModelShape, phase: ModelPhase, plans: readonly CompressionPlan[]): PlanComparison[] {
  const base = simulateModel(cfg, shape, phase, uniformPlan(DENSE, 8));
  return [base, ...plans.map((p) => simulateModel(cfg, shape, phase, p))].map((r) => ({
    plan: r.plan,
    cycles: r.cycles,
    latencyMs: r.latencyMs,
    tokensPerSecond: r.tokensPerSecond,
    energyMj: r.energyMj,
    dramBytes: r.dramBytes,
    speedup: base.cycles / r.cycles,
    energyRatio: r.energyMj / base.energyMj,
  }));
}
