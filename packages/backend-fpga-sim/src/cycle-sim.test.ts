import { describe, expect, it } from 'vitest';
import { createRng } from '@sparq/tensor';
import { analyzeGemm } from './analytical';
import { type Dataflow, resolveFpgaConfig } from './config';
import { simulateGemmCycles } from './cycle-sim';
import type { GemmWorkload, SparsityPattern } from './mapping';

/** Random INT8 activations, INT`bits` kept weights and sorted in-group indices (docs/format.md §3). */
function randomOperands(seed: number, m: number, k: number, n: number, p: SparsityPattern, bits: number) {
  const rng = createRng(seed);
  const kc = (k / p.group) * p.keep;
  const a = new Int8Array(m * k);
  for (let i = 0; i < a.length; i++) a[i] = Math.floor(rng.float() * 256) - 128;
  const w = new Int8Array(n * kc);
  const lo = -(2 ** (bits - 1));
  for (let i = 0; i < w.length; i++) w[i] = lo + Math.floor(rng.float() * 2 ** bits);
  const idx = new Uint8Array(n * kc);
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < k / p.group; g++) {
      const pos = Array.from({ length: p.group }, (_, i) => i);
      for (let i = pos.length - 1; i > 0; i--) {
        const j = Math.floor(rng.float() * (i + 1));
        [pos[i], pos[j]] = [pos[j]!, pos[i]!];
      }
      const kept = pos.slice(0, p.keep).sort((x, y) => x - y);
      for (let s = 0; s < p.keep; s++) idx[r * kc + g * p.keep + s] = kept[s]!;
    }
  }
  return { a, w, idx };
}

/** Independent reference: decode N:M to dense int weights, then a plain triple loop with exact integer sums. */
function referenceIntGemm(a: Int8Array, w: Int8Array, idx: Uint8Array, m: number, k: number, n: number, p: SparsityPattern, accBits: number) {
  const kc = (k / p.group) * p.keep;
  const dense = new Int32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let s = 0; s < kc; s++) {
      const g = Math.floor(s / p.keep);
      dense[r * k + g * p.group + (p.group === 1 ? 0 : idx[r * kc + s]!)] = w[r * kc + s]!;
    }
  }
  const out = new Float64Array(m * n);
  const mod = 2n ** BigInt(accBits);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0n;
      for (let q = 0; q < k; q++) s += BigInt(a[i * k + q]! * dense[j * k + q]!);
      let r = ((s % mod) + mod) % mod; // two's-complement wrap at the accumulator width
      if (r >= mod / 2n) r -= mod;
      out[i * n + j] = Number(r);
    }
  }
  return out;
}

const PATTERNS: SparsityPattern[] = [
  { keep: 1, group: 1 },
  { keep: 2, group: 4 },
  { keep: 1, group: 4 },
  { keep: 2, group: 8 },
  { keep: 4, group: 8 },
  { keep: 3, group: 16 },
];
const DATAFLOWS: Dataflow[] = ['ws', 'os', 'is'];

describe('cycle-level simulator', () => {
  for (const dataflow of DATAFLOWS) {
    for (const p of PATTERNS) {
      it(`${dataflow} ${p.keep}:${p.group}: INT4 × INT8 output is bit-exact and cycles equal the analytical model`, () => {
        const cfg = resolveFpgaConfig({
          array: { rows: 4, cols: 3, dataflow },
          dram: { bandwidthGBs: 0.9, latencyCycles: 7 }, // 3 B/cycle at 300 MHz: DRAM stalls happen
          sram: { weightKiB: 0.125, activationKiB: 0.25, outputKiB: 1, banks: 4, prefetchFolds: 4 },
        });
        const [m, k, n] = [5, 32, 7];
        const { a, w, idx } = randomOperands(11 + p.group * 3 + p.keep, m, k, n, p, 4);
        const wl: GemmWorkload = { shape: { m, k, n }, sparsity: p, weightBits: 4, quantGroupSize: 16 };
        const res = simulateGemmCycles(cfg, wl, { a, w, ...(p.group > 1 ? { idx } : {}) });
        expect(Array.from(res.output)).toEqual(Array.from(referenceIntGemm(a, w, idx, m, k, n, p, 32)));
        const ana = analyzeGemm(cfg, wl);
        expect(res.report.cycles).toBe(ana.cycles);
        expect(res.report.stallCycles).toBe(ana.stallCycles);
        expect(res.report.macs).toBe(ana.macs);
        expect(res.report.macs).toBe((m * k * n * p.keep) / p.group);
        expect(res.report.stallCycles).toBeGreaterThan(0);
      });
    }
  }

  it('agrees with the analytical model across array shapes, bandwidths and latencies (compute- and memory-bound)', () => {
    const rng = createRng(5);
    let memoryBound = 0;
    let computeBound = 0;
    for (let trial = 0; trial < 40; trial++) {
      const dataflow = DATAFLOWS[trial % 3]!;
      const p = PATTERNS[trial % PATTERNS.length]!;
      const rows = 2 + Math.floor(rng.float() * 5);
      const cols = 1 + Math.floor(rng.float() * 5);
      const cfg = resolveFpgaConfig({
        array: { rows, cols, dataflow },
        pe: { selectorStages: Math.floor(rng.float() * 3), activation: trial % 4 === 0 ? 'fp16' : 'int8' },
        dram: { bandwidthGBs: [0.3, 3, 300][trial % 3]!, latencyCycles: Math.floor(rng.float() * 20) },
        sram: { weightKiB: 0.0625 + rng.float(), activationKiB: 0.0625 + rng.float(), outputKiB: 1, banks: 2, prefetchFolds: 2 + (trial % 5) },
      });
      const m = 1 + Math.floor(rng.float() * 9);
      const k = p.group * (1 + Math.floor(rng.float() * 4)) * (p.group === 1 ? 8 : 1);
      const n = 1 + Math.floor(rng.float() * 9);
      const bits = trial % 2 === 0 ? 4 : 8;
      const { a, w, idx } = randomOperands(100 + trial, m, k, n, p, bits);
      const wl: GemmWorkload = { shape: { m, k, n }, sparsity: p, weightBits: bits, quantGroupSize: 0 };
      const res = simulateGemmCycles(cfg, wl, { a, w, ...(p.group > 1 ? { idx } : {}) });
      expect(Array.from(res.output)).toEqual(Array.from(referenceIntGemm(a, w, idx, m, k, n, p, 32)));
      const ana = analyzeGemm(cfg, wl);
      expect({ trial, cycles: res.report.cycles, stalls: res.report.stallCycles, sw: res.report.switchStallCycles }).toEqual({
        trial,
        cycles: ana.cycles,
        stalls: ana.stallCycles,
        sw: ana.switchStallCycles,
      });
      expect(res.report.dramBytes).toBe(ana.dramBytes);
      if (ana.bound === 'memory') memoryBound++;
      else computeBound++;
    }
    expect(memoryBound).toBeGreaterThan(0);
    expect(computeBound).toBeGreaterThan(0);
  });

  it('short streams (T < rows: decode GEMV, tiny k or n) are bound by the stationary switch, in both modes', () => {
    for (const dataflow of DATAFLOWS) {
      for (const p of [PATTERNS[0]!, PATTERNS[1]!]) {
        const cfg = resolveFpgaConfig({ array: { rows: 6, cols: 3, dataflow }, pe: { selectorStages: 2 }, dram: { bandwidthGBs: 300, latencyCycles: 3 } });
        // T = m = 1 (ws), T = kc = 2 (os), T = n = 2 (is).
        const [m, k, n] = dataflow === 'ws' ? [1, 48, 8] : dataflow === 'os' ? [8, 4 * p.group / p.keep / 2, 8] : [7, 48, 2];
        const { a, w, idx } = randomOperands(77, m, k, n, p, 4);
        const wl: GemmWorkload = { shape: { m, k, n }, sparsity: p, weightBits: 4, quantGroupSize: 0 };
        const res = simulateGemmCycles(cfg, wl, { a, w, ...(p.group > 1 ? { idx } : {}) });
        expect(Array.from(res.output)).toEqual(Array.from(referenceIntGemm(a, w, idx, m, k, n, p, 32)));
        const ana = analyzeGemm(cfg, wl);
        expect(res.report.cycles).toBe(ana.cycles);
        expect(res.report.switchStallCycles).toBeGreaterThan(0);
        expect(res.report.switchStallCycles).toBe(ana.switchStallCycles);
      }
    }
  });

  it('wraps the accumulator like the hardware (16-bit accumulator)', () => {
    const cfg = resolveFpgaConfig({ array: { rows: 3, cols: 2, dataflow: 'ws' }, pe: { accumulatorBits: 16, weightBits: 8 } });
    const [m, k, n] = [2, 64, 3];
    const a = new Int8Array(m * k).fill(127);
    const w = new Int8Array(n * k).fill(127);
    const p = { keep: 1, group: 1 };
    const res = simulateGemmCycles(cfg, { shape: { m, k, n }, sparsity: p, weightBits: 8, quantGroupSize: 0 }, { a, w });
    const ref = referenceIntGemm(a, w, new Uint8Array(n * k), m, k, n, p, 16);
    expect(Array.from(res.output)).toEqual(Array.from(ref));
    expect(res.output[0]).not.toBe(127 * 127 * 64); // it really wrapped
  });

  it('rejects out-of-range operands and unsupported patterns with clear errors', () => {
    const cfg = resolveFpgaConfig({ array: { rows: 2, cols: 2, dataflow: 'ws' }, pe: { maxGroup: 4 } });
    const wl: GemmWorkload = { shape: { m: 1, k: 4, n: 1 }, sparsity: { keep: 1, group: 1 }, weightBits: 4, quantGroupSize: 0 };
    expect(() => simulateGemmCycles(cfg, wl, { a: new Int8Array(4), w: Int8Array.from([0, 0, 9, 0]) })).toThrow(/w\[2\] = 9 is outside int4/);
    expect(() => simulateGemmCycles(cfg, { ...wl, sparsity: { keep: 2, group: 8 }, shape: { m: 1, k: 8, n: 1 } }, { a: new Int8Array(8), w: new Int8Array(2), idx: new Uint8Array(2) })).toThrow(
      /8-to-1 selector/,
    );
    expect(() =>
      simulateGemmCycles(cfg, { ...wl, sparsity: { keep: 2, group: 4 } }, { a: new Int8Array(4), w: new Int8Array(2), idx: Uint8Array.from([1, 1]) }),
    ).toThrow(/must increase/);
  });
});
