import { describe, expect, it } from 'vitest';
import { analyzeGemm } from './analytical';
import { resolveFpgaConfig } from './config';
import { simulateGemmCycles } from './cycle-sim';
import { type GemmWorkload, type SparsityPattern, parsePattern } from './mapping';

describe('analytical timing model', () => {
  it('hand-computed ws case: 4×4 array, M=8, K=8, N=4, 16 B/cycle DRAM, latency 10', () => {
    // Folds: K split in 2 row folds, T = M = 8. Per fold: weight tile 16 B (int8), activation tile 8×4 = 32 B
    // (A fits in SRAM: fetched once per row fold); the second fold completes 8×4 f16 outputs = 64 B.
    // Double buffering (prefetch depth 2):
    // slot0 issued at 0, data 10 + ceil(48/16) = 13 → preload 13…16 → e0 = 17
    // slot1 issued when fold 0's feeder starts (17), data 27…30 → preload 30 → e1 = max(17+8, 30+4) = 34
    // last output: e1 + T + R + C − 2 = 48; write-back issued at 48: 48 + 10 + ceil(64/16) = 62 cycles.
    // Stalls: 13 (initial load) + (34 − (17 + 8)) + 14 (write-back) = 36.
    const cfg = resolveFpgaConfig({
      array: { rows: 4, cols: 4, dataflow: 'ws' },
      dram: { bandwidthGBs: 4.8, latencyCycles: 10 },
      sram: { prefetchFolds: 2 },
      clockMHz: 300,
    });
    const wl: GemmWorkload = { shape: { m: 8, k: 8, n: 4 }, sparsity: { keep: 1, group: 1 }, weightBits: 8, quantGroupSize: 0 };
    const r = analyzeGemm(cfg, wl);
    expect(r.cycles).toBe(62);
    expect(r.stallCycles).toBe(36);
    expect(r.dramReadBytes).toBe(96);
    expect(r.dramWriteBytes).toBe(64);
    expect(r.latencyMs).toBeCloseTo(62 / 300e3, 15);
    const c = simulateGemmCycles(cfg, wl, { a: new Int8Array(64).fill(1), w: new Int8Array(32).fill(-1) });
    expect(c.report.cycles).toBe(62);
    expect(c.foldEntry).toEqual([17, 34]);
    expect(Array.from(c.output)).toEqual(new Array(32).fill(-8));
    // Prefetch depth 8: slot1 is issued at 0 too, its data follow slot0's: 13…16 → preload 17 → e1 = 25;
    // last output 25 + 14 = 39; write-back 39 + 10 + 4 = 53.
    const deep = resolveFpgaConfig({ ...cfg, sram: { ...cfg.sram, prefetchFolds: 8 } });
    expect(analyzeGemm(deep, wl).cycles).toBe(53);
    expect(simulateGemmCycles(deep, wl, { a: new Int8Array(64), w: new Int8Array(32) }).foldEntry).toEqual([17, 25]);
  });

  it('compute-bound GEMM: N:M gains M/N in cycles, minus only the selector pipeline stage', () => {
    const cfg = resolveFpgaConfig({ array: { rows: 64, cols: 64, dataflow: 'ws' } });
    const shape = { m: 512, k: 4096, n: 4096 };
    const dense = analyzeGemm(cfg, { shape, sparsity: { keep: 1, group: 1 }, weightBits: 4, quantGroupSize: 128 });
    expect(dense.bound).toBe('compute');
    for (const pat of ['2:4', '1:4', '2:8', '4:8']) {
      const p: SparsityPattern = parsePattern(pat);
      const sparse = analyzeGemm(cfg, { shape, sparsity: p, weightBits: 4, quantGroupSize: 128 });
      const gain = dense.cycles / sparse.cycles;
      expect(gain).toBeLessThanOrEqual(p.group / p.keep);
      expect(gain).toBeGreaterThan((p.group / p.keep) * 0.97);
      expect(sparse.macs * (p.group / p.keep)).toBe(dense.macs);
    }
  });

  it('memory-bound decode GEMV: N:M gains follow the DRAM byte reduction', () => {
    // A decode-oriented output-stationary array (16 × 256) on one DDR4-2400 channel (19.2 GB/s).
    const cfg = resolveFpgaConfig({ array: { rows: 16, cols: 256, dataflow: 'os' }, dram: { bandwidthGBs: 19.2, latencyCycles: 100 } });
    const shape = { m: 1, k: 4096, n: 11008 };
    const dense = analyzeGemm(cfg, { shape, sparsity: { keep: 1, group: 1 }, weightBits: 4, quantGroupSize: 128 });
    expect(dense.bound).toBe('memory');
    for (const pat of ['2:4', '1:4', '2:8', '4:8']) {
      const sparse = analyzeGemm(cfg, { shape, sparsity: parsePattern(pat), weightBits: 4, quantGroupSize: 128 });
      expect(sparse.bound).toBe('memory');
      const cycleGain = dense.cycles / sparse.cycles;
      const byteGain = dense.dramBytes / sparse.dramBytes;
      expect(Math.abs(cycleGain - byteGain) / byteGain).toBeLessThan(0.05);
    }
  });

  it('flags buffers too small for two fold tiles or a column fold of partial sums', () => {
    const wl: GemmWorkload = { shape: { m: 512, k: 4096, n: 4096 }, sparsity: { keep: 1, group: 1 }, weightBits: 8, quantGroupSize: 0 };
    expect(analyzeGemm(resolveFpgaConfig({}), wl).sramFits).toBe(true);
    // ws keeps 512 × 64 int32 partial sums = 128 KiB per column fold.
    expect(analyzeGemm(resolveFpgaConfig({ sram: { outputKiB: 64 } }), wl).sramFits).toBe(false);
    // A 64×64 int8 weight tile is 4 KiB: a 6 KiB weight buffer holds only one.
    expect(analyzeGemm(resolveFpgaConfig({ sram: { weightKiB: 6 } }), wl).sramFits).toBe(false);
  });

  it('reports utilisation, energy and latency consistently', () => {
    const cfg = resolveFpgaConfig({});
    const r = analyzeGemm(cfg, { shape: { m: 128, k: 4096, n: 4096 }, sparsity: { keep: 2, group: 4 }, weightBits: 4, quantGroupSize: 128 });
    expect(r.utilization).toBeCloseTo(r.macs / (r.cycles * 64 * 64), 15);
    expect(r.utilization).toBeGreaterThan(0.5);
    expect(r.utilization).toBeLessThanOrEqual(1);
    const e = r.energy;
    expect(e.macUj).toBeCloseTo((r.macs * cfg.energy.macPj) / 1e6, 9);
    expect(e.dramUj).toBeCloseTo((r.dramBytes * cfg.energy.dramPjPerByte) / 1e6, 9);
    expect(e.totalUj).toBeCloseTo(e.macUj + e.sramUj + e.dramUj + e.staticUj, 9);
    expect(r.latencyMs).toBeCloseTo(r.cycles / 300e3, 12);
  });
});
