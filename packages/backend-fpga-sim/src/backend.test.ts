import { describe, expect, it } from 'vitest';
import {
  type NMMatrix,
  type NMQuantMatrix,
  type QuantizedMatrix,
  Tensor,
  createRng,
  f32ToF16,
  matmulDenseRef,
  matmulPackedRef,
} from '@sparq/tensor';
import { analyzeGemm } from './analytical';
import { createFpgaSimBackend } from './backend';

const rng = createRng(42);

/** §1 packing written here independently: element i of a row at stream bits [i·b, i·b+b), LSB-first. */
function packRows(codes: number[], rows: number, count: number, bits: number): Uint8Array {
  const rowBytes = Math.ceil((count * bits) / 8);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < count; i++) {
      const v = codes[r * count + i]!;
      for (let b = 0; b < bits; b++) {
        const bit = i * bits + b;
        if ((v >> b) & 1) out[r * rowBytes + (bit >> 3)]! |= 1 << (bit & 7);
      }
    }
  }
  return out;
}

function indices(rows: number, cols: number, n: number, m: number): number[] {
  const idx: number[] = [];
  for (let g = 0; g < (rows * cols) / m; g++) {
    const pos = Array.from({ length: m }, (_, i) => i);
    for (let i = m - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [pos[i], pos[j]] = [pos[j]!, pos[i]!];
    }
    idx.push(...pos.slice(0, n).sort((x, y) => x - y));
  }
  return idx;
}

const scales = (count: number) => Uint16Array.from({ length: count }, () => f32ToF16(0.01 + rng.float() * 0.2));
const codes = (count: number, bits: number) => Array.from({ length: count }, () => rng.int(1 << bits));
const randA = (m: number, k: number) => new Tensor('f32', [m, k], rng.fillNormal(new Float32Array(m * k)) as Float32Array);

describe('fpga-sim backend', () => {
  it('matmulDense equals the reference bit for bit (both layouts) and logs the simulated timing', async () => {
    const be = createFpgaSimBackend({ array: { rows: 8, cols: 8, dataflow: 'ws' } });
    for (const [m, k, n] of [[1, 64, 33], [5, 31, 7], [17, 128, 9]] as const) {
      const a = randA(m, k);
      for (const transposeB of [true, false]) {
        const b = new Tensor('f32', transposeB ? [n, k] : [k, n], rng.fillNormal(new Float32Array(n * k)) as Float32Array);
        const got = await be.run('matmulDense', { a, b }, { transposeB });
        expect(got.shape).toEqual([m, n]);
        expect(Array.from(got.data)).toEqual(Array.from(matmulDenseRef({ a, b }, { transposeB }).data));
      }
    }
    const runs = be.runs();
    expect(runs).toHaveLength(6);
    expect(runs[0]!.report.shape).toEqual({ m: 1, k: 64, n: 33 });
    expect(be.totals().cycles).toBe(runs.reduce((s, r) => s + r.report.cycles, 0));
    be.resetRuns();
    expect(be.runs()).toHaveLength(0);
    await be.dispose();
  });

  it('matmulQuant, matmulNM and matmulNMQuant equal a · decode(w)ᵀ bit for bit, timed with their pattern and width', async () => {
    const be = createFpgaSimBackend({ array: { rows: 16, cols: 8, dataflow: 'ws' } });
    const [m, rows, cols] = [3, 12, 64];
    const a = randA(m, cols);
    const q: QuantizedMatrix = {
      kind: 'quant', rows, cols, bits: 4, groupSize: 16, sym: false,
      codes: packRows(codes(rows * cols, 4), rows, cols, 4),
      scales: scales(rows * 4),
      zeros: packRows(codes(rows * 4, 4), rows, 4, 4),
    };
    const nm: NMMatrix = {
      kind: 'nm', rows, cols, n: 2, m: 8,
      values: rng.fillNormal(new Float32Array(rows * 16)) as Float32Array,
      indices: packRows(indices(rows, cols, 2, 8), rows, 16, 3),
    };
    const nmq: NMQuantMatrix = {
      kind: 'nm-quant', rows, cols, n: 2, m: 4, bits: 4, groupSize: 32, sym: true,
      codes: packRows(codes(rows * 32, 4), rows, 32, 4),
      scales: scales(rows * 2),
      indices: packRows(indices(rows, cols, 2, 4), rows, 32, 2),
    };
    expect(Array.from((await be.run('matmulQuant', { a, w: q }, {})).data)).toEqual(Array.from(matmulPackedRef(a, q).data));
    expect(Array.from((await be.run('matmulNM', { a, w: nm }, {})).data)).toEqual(Array.from(matmulPackedRef(a, nm).data));
    expect(Array.from((await be.run('matmulNMQuant', { a, w: nmq }, {})).data)).toEqual(Array.from(matmulPackedRef(a, nmq).data));
    const [rq, rnm, rnmq] = be.runs().map((r) => r.report);
    expect([rq!.pattern, rq!.weightBits]).toEqual(['dense', 4]);
    expect([rnm!.pattern, rnm!.weightBits]).toEqual(['2:8', 8]);
    expect([rnmq!.pattern, rnmq!.weightBits]).toEqual(['2:4', 4]);
    expect(rnmq!.cycles).toBe(
      analyzeGemm(be.config, { shape: { m, k: cols, n: rows }, sparsity: { keep: 2, group: 4 }, weightBits: 4, quantGroupSize: 32 }).cycles,
    );
    expect(rnmq!.macs).toBe((m * cols * rows) / 2);
  });

  it('reports a pattern wider than the selector as unsupported', async () => {
    const be = createFpgaSimBackend({ array: { rows: 4, cols: 4, dataflow: 'ws' }, pe: { maxGroup: 4 } });
    const a = randA(1, 16);
    const nm: NMMatrix = {
      kind: 'nm', rows: 2, cols: 16, n: 2, m: 8,
      values: new Float32Array(2 * 4),
      indices: packRows(indices(2, 16, 2, 8), 2, 4, 3),
    };
    expect(be.supports('matmulNM', { a, w: nm }, {})).toMatch(/8-to-1 selector/);
    await expect(be.run('matmulNM', { a, w: nm }, {})).rejects.toThrow(/E_KERNEL_UNSUPPORTED|cannot run matmulNM/);
  });
});
