// Compressed kernels beyond conformance: the int8-activation GEMV paths checked
// against a float64 simulation of exactly what they are documented to compute,
// exact mode and GEMM at f32 accuracy, thread-count independence, caching and
// release, and errors on malformed weights.
import { randomNM, randomNMQuant, randomQuantized, randomSpqr } from '@sparq/conformance';
import { createRng, decodePacked, isSparqError, matmulPackedRef, Tensor, type Backend, type PackedMatrix, type SpqrMatrix } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuWasmBackend, packedPath, relaxedSimdAvailable } from './index';

const rng = createRng(99);
const randn = (m: number, k: number) => new Tensor('f32', [m, k], rng.fillNormal(new Float32Array(m * k)) as Float32Array);

/** Round half to even, as wasm `f32.nearest`. */
function nearestEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Float64 model of an int8-activation GEMV: a quantized per block of `xb`
 * columns (scale absmax/127 in f32, codes nearest(x·127/absmax) clamped to
 * ±127), times the exactly decoded weight — except at the positions `exact`
 * marks (SpQR outliers, [n, k]), which take a itself. Returns y and Σ|terms| per row.
 */
function int8Gemv(a: Float32Array, W: Float32Array, n: number, k: number, xb: number, exact?: Uint8Array): { y: Float64Array; mag: Float64Array } {
  const xhat = new Float64Array(k);
  for (let b = 0; b < k; b += xb) {
    let amax = 0;
    for (let p = b; p < b + xb; p++) amax = Math.max(amax, Math.abs(a[p]!));
    const sx = Math.fround(amax / 127);
    const inv = amax > 0 ? Math.fround(127 / amax) : 0;
    for (let p = b; p < b + xb; p++) xhat[p] = sx * Math.min(127, Math.max(-127, nearestEven(Math.fround(a[p]! * inv))));
  }
  const y = new Float64Array(n);
  const mag = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < k; p++) {
      const x = exact?.[j * k + p] ? a[p]! : xhat[p]!;
      y[j]! += W[j * k + p]! * x;
      mag[j]! += Math.abs(W[j * k + p]! * x);
    }
  }
  return { y, mag };
}

/** The positions of a SpQR weight's outliers, [rows, cols]. */
function outlierMask(w: SpqrMatrix): Uint8Array {
  const mask = new Uint8Array(w.rows * w.cols);
  const { rowPtr, cols } = w.outliers;
  for (let r = 0; r < w.rows; r++) for (let p = rowPtr[r]!; p < rowPtr[r + 1]!; p++) mask[r * w.cols + cols[p]!] = 1;
  return mask;
}

function nmse(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    e += (out[i]! - ref[i]!) ** 2;
    s += ref[i]! ** 2;
  }
  return e / s;
}

// The relaxed-SIMD build needs an engine that validates it (Node 20: --experimental-wasm-relaxed-simd).
const relaxed = await relaxedSimdAvailable();
if (!relaxed) console.log('relaxed-SIMD build not tested: this engine rejects relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)');

describe('cpu-wasm compressed kernels', () => {
  const backends: Backend[] = [];
  const make = (threads: number, int8Activations = true) => {
    const b = createCpuWasmBackend({ threads, minParallelWork: 0, int8Activations });
    backends.push(b);
    return b;
  };
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.dispose()));
  });
  const run = (be: Backend, a: Tensor<'f32'>, w: PackedMatrix) => {
    const kernel = { quant: 'matmulQuant', nm: 'matmulNM', 'nm-quant': 'matmulNMQuant', spqr: 'matmulSpqr' } as const;
    return be.run(kernel[w.kind], { a, w } as never, {});
  };

  it('int8 GEMV paths compute exactly the documented int8-activation product (float64 model)', async () => {
    const be = make(2);
    const weights: PackedMatrix[] = [
      randomQuantized(rng, 37, 512, 4, 128, true),
      randomQuantized(rng, 21, 512, 4, 32, false),
      randomQuantized(rng, 9, 1024, 4, 1024, false),
      randomQuantized(rng, 10, 4224, 4, 128, false), // long rows
      randomQuantized(rng, 150, 8320, 4, 128, false), // Q4 layout: 3 blocks of quads (2 rows left over), k-segments of 2816, 2816, 2688
      randomQuantized(rng, 70, 4160, 4, 32, true), // 2 segments of 2080 columns
      randomQuantized(rng, 13, 384, 8, 64, true),
      randomQuantized(rng, 11, 320, 8, 16, false),
      // Q8 rows 4 at a time, a quarter of the claim apart (gemvQ8Rows4), and the rows left over (step 0).
      randomQuantized(rng, 1103, 256, 8, 128, false),
      randomQuantized(rng, 150, 4224, 8, 64, true),
      randomNMQuant(rng, 19, 512, 2, 4, 4, 128, true),
      randomNMQuant(rng, 23, 384, 2, 4, 4, 128, false),
      randomNMQuant(rng, 37, 1024, 2, 4, 4, 256, false), // NMQ4: 2 steps per group; claims of 4 rows cut every octet
      randomNMQuant(rng, 6, 4352, 2, 4, 4, 128, true), // NMQ4: one partial octet, 2 k-segments of 2176
      randomNMQuant(rng, 150, 8448, 2, 4, 4, 256, false), // NMQ4: blocks of 8, 8, 3 octets, 3 k-segments of 2816; claims of 12 rows cut octets
      randomQuantized(rng, 1100, 256, 4, 128, false), // claims of 128 rows (work.ts), 9 of them, the last partial
      randomNMQuant(rng, 1100, 256, 2, 4, 4, 128, false),
      // NMQ4C (M dividing 16, not 2:4): 4 and 2 vectors per 16-column chunk, one partial octet, 2 steps per
      // group, 3 k-segments with blocks of 8, 8, 3 octets, and claims of 128 rows.
      randomNMQuant(rng, 21, 512, 4, 8, 4, 128, false),
      randomNMQuant(rng, 13, 384, 2, 8, 4, 128, true),
      randomNMQuant(rng, 19, 512, 8, 16, 4, 256, false),
      randomNMQuant(rng, 9, 256, 4, 16, 4, 128, true),
      randomNMQuant(rng, 150, 8448, 4, 8, 4, 128, false),
      randomNMQuant(rng, 1100, 256, 4, 8, 4, 128, true),
      randomNMQuant(rng, 27, 640, 1, 4, 4, 128, false),
      randomNMQuant(rng, 14, 256, 1, 2, 4, 256, true),
      // 2- and 3-bit codes held as nibbles: the 4-bit kernels (Q4, NMQ4, NMQ4C) run them.
      randomQuantized(rng, 37, 512, 3, 128, false),
      randomQuantized(rng, 70, 4160, 3, 32, true), // 2 k-segments
      randomQuantized(rng, 21, 256, 2, 64, false),
      // Groups of 16 (two per 32-column activation block, as SpQR's): 4-, 3- and 2-bit, 3 k-segments.
      randomQuantized(rng, 37, 512, 4, 16, false),
      randomQuantized(rng, 21, 256, 3, 16, true),
      randomQuantized(rng, 150, 8320, 2, 16, false),
      randomNMQuant(rng, 19, 512, 2, 4, 3, 128, false),
      randomNMQuant(rng, 23, 384, 2, 4, 2, 128, true),
      randomNMQuant(rng, 21, 512, 4, 8, 3, 128, true),
      randomNMQuant(rng, 13, 256, 1, 4, 2, 128, false),
      // 2:4 + 8-bit on the NMQ4 stream with byte codes (the baseline step, both builds): groups of 128, 64, 256 (2 steps) and 32; 3 k-segments
      // with blocks of 8, 8, 3 octets; claims of 128 rows.
      randomNMQuant(rng, 19, 512, 2, 4, 8, 128, false),
      randomNMQuant(rng, 23, 384, 2, 4, 8, 64, true),
      randomNMQuant(rng, 150, 8448, 2, 4, 8, 256, false),
      randomNMQuant(rng, 1100, 256, 2, 4, 8, 32, false),
      // N:M + 8-bit on the chunked stream with byte code vectors (nmq4cStepBase): 4:8 (V = 4), 1:4 (V = 2), 8:16; groups
      // of 32, 64, 128; 3 k-segments; claims of 128 rows.
      randomNMQuant(rng, 21, 512, 4, 8, 8, 128, false),
      randomNMQuant(rng, 13, 384, 1, 4, 8, 64, true),
      randomNMQuant(rng, 150, 8448, 4, 8, 8, 64, false),
      randomNMQuant(rng, 1100, 256, 8, 16, 8, 32, true),
      // N:M + 2/3/4-bit with groups of 32 or 64: one shorter kernel step (and activation block) per group.
      randomNMQuant(rng, 19, 512, 2, 4, 4, 64, false),
      randomNMQuant(rng, 23, 384, 2, 4, 4, 32, true),
      randomNMQuant(rng, 150, 8448, 2, 4, 3, 64, false), // 3 k-segments of 2816 columns, claims cut octets
      randomNMQuant(rng, 21, 512, 4, 8, 4, 32, false),
      randomNMQuant(rng, 13, 384, 1, 4, 2, 64, true),
      randomNMQuant(rng, 1100, 256, 8, 16, 4, 64, false), // claims of 128 rows
      // SpQR bases (non-integer zero-points, ~2 % outliers as deltas) on the 4-bit kernel: groups of 16 (two per
      // activation block), 32 and 128; 2-, 3- and 4-bit codes; 3 blocks of quads with 2 rows left over and
      // 3 k-segments; claims of 128 rows.
      randomSpqr(rng, 37, 512, 3, 16, 16),
      randomSpqr(rng, 21, 256, 2, 16, 5),
      randomSpqr(rng, 19, 384, 4, 32, 16),
      randomSpqr(rng, 13, 512, 3, 128, 16),
      randomSpqr(rng, 150, 8320, 3, 16, 16),
      randomSpqr(rng, 1100, 256, 3, 16, 16),
    ];
    const seen = new Set<string>();
    for (const w of weights) {
      const { path, xb } = packedPath(w, 1, true);
      seen.add(path);
      expect(path, `${w.kind} ${JSON.stringify({ bits: (w as { bits?: number }).bits })}`).not.toBe('generic');
      const a = randn(1, w.cols);
      const out = await run(be, a, w);
      const { y, mag } = int8Gemv(a.data, decodePacked(w), w.rows, w.cols, xb, w.kind === 'spqr' ? outlierMask(w) : undefined);
      for (let j = 0; j < w.rows; j++) {
        expect(Math.abs(out.data[j]! - y[j]!), `${path} row ${j}`).toBeLessThanOrEqual(1e-5 * mag[j]! + 1e-30);
      }
    }
    expect([...seen].sort()).toEqual(['nmq4', 'nmq4c', 'q4', 'q8']);
  });

  it('exact mode (int8Activations: false) and every GEMM match the reference at f32 accuracy', async () => {
    const exact = make(2, false);
    const fast = make(2, true);
    const weights: PackedMatrix[] = [
      randomQuantized(rng, 33, 256, 4, 128, false),
      randomQuantized(rng, 17, 96, 8, 32, true),
      randomQuantized(rng, 18, 105, 3, 21, false),
      randomNM(rng, 29, 256, 2, 4),
      randomNM(rng, 150, 4160, 2, 4), // long rows, 2 rows past the last quad
      randomNMQuant(rng, 31, 256, 2, 4, 4, 128, true),
      randomSpqr(rng, 35, 128, 3, 16, 16),
      randomNM(rng, 203, 2048, 2, 4), // GEMV: 4 quad streams per claim, left-over quads, a partial last quad
      randomQuantized(rng, 1100, 128, 4, 128, false), // GEMV claims of 128 (2 threads) and 192 rows (1 thread)
      randomNMQuant(rng, 1100, 128, 2, 4, 4, 128, false),
      randomNM(rng, 1100, 128, 2, 4),
      // Any-N:M column-byte kernels: 4:8 and 1:4 (GEMV gather, sparse GEMM), a last partial 128-column block
      // with slots left over past a multiple of 4 (k = 388: 1:4 → 1 slot, 4:8 → 2 slots), 3-bit values.
      randomNM(rng, 37, 512, 4, 8),
      randomNM(rng, 23, 388, 1, 4),
      randomNM(rng, 21, 392, 4, 8),
      randomNM(rng, 29, 1016, 4, 8), // 4:8 f32 GEMV: 3 groups past the last 32-column step, 4-row calls and single rows
      randomNM(rng, 19, 272, 8, 16),
      randomNMQuant(rng, 29, 512, 4, 8, 4, 128, false),
      randomNMQuant(rng, 17, 392, 4, 8, 3, 56, true),
      randomNMQuant(rng, 15, 260, 1, 4, 8, 20, false),
      randomNM(rng, 9, 48, 3, 6), // M not dividing 128: exact decode path
      // 2:4 weights the 2:4 GEMVs do not take (k % 8 = 4: column-byte gather GEMV and sparse GEMM), 2:4 + 8-bit (exact
      // decode GEMV in exact mode, sparse GEMM) and a 2:4 + INT4 g64.
      randomNM(rng, 19, 260, 2, 4), // k % 8 = 4
      randomNMQuant(rng, 21, 256, 2, 4, 8, 64, false),
      randomNMQuant(rng, 17, 320, 2, 4, 4, 64, true),
      // SpQR in the Q4 layout: exact decode of groups of 16 across 3 k-segments and 3 blocks of quads.
      randomSpqr(rng, 150, 8320, 3, 16, 16),
      randomSpqr(rng, 23, 256, 4, 32, 7),
      randomQuantized(rng, 150, 8320, 3, 16, false), // §2 groups of 16 in the Q4 layout, 3 k-segments
    ];
    for (const w of weights) {
      const gemv = randn(1, w.cols);
      expect(nmse((await run(exact, gemv, w)).data, matmulPackedRef(gemv, w).data), `${w.kind} exact GEMV`).toBeLessThan(1e-10);
      // 40: three 16-row panels of the sparse 2:4 GEMM, a pair (tileSp24Pair) then a single one (tileSp24).
      // Small batches on an int8 GEMV path run it per row (tested against one-row calls below); exact mode runs
      // every batch at f32 accuracy.
      // 5: f32 N:M weights other than 2:4 run the sparse GEMM from batch 4 (one panel, row pairs).
      for (const m of [2, 5, 8, 13, 40]) {
        const a = randn(m, w.cols);
        const ref = matmulPackedRef(a, w).data;
        expect(nmse((await run(exact, a, w)).data, ref), `${w.kind} exact m=${m}`).toBeLessThan(1e-10);
        if (['q4', 'q8', 'nmq4', 'nmq4c'].includes(packedPath(w, m, true).path)) continue;
        expect(nmse((await run(fast, a, w)).data, ref), `${w.kind} GEMM m=${m}`).toBeLessThan(1e-10);
      }
    }
  });

  it('sparse GEMMs: k-chunks and row sub-blocks change no result (batch 264 against batch 33, bit for bit)', async () => {
    // Batch 264 = 17 panels: k-chunks of 384 columns (about 512 KiB of panels), so k = 1024 is cut twice; 2100 rows
    // give claims of 192 rows, cut into sub-blocks of 128 and 64. Groups of 512 columns are cut by the chunk.
    // Batch 33 (the smallest the N:M + INT4 weights send to the sparse GEMM) is 3 panels, one chunk. Each output
    // is one accumulator chain over its row's kept slots, so the first 33 outputs per weight row must be the
    // same bits either way; all must match the reference.
    const be = make(2);
    for (const w of [
      randomNM(rng, 2100, 1024, 2, 4),
      randomNMQuant(rng, 2100, 1024, 2, 4, 4, 512, false),
      randomNM(rng, 2100, 1024, 4, 8),
      randomNMQuant(rng, 2100, 1024, 4, 8, 4, 512, true),
    ]) {
      const a = randn(264, w.cols);
      const big = (await run(be, a, w)).data;
      expect(nmse(big, matmulPackedRef(a, w).data), `${w.kind} m=264`).toBeLessThan(1e-10);
      expect(packedPath(w, 33, true).path).toMatch(/^sp/);
      const small = (await run(be, new Tensor('f32', [33, w.cols], a.data.slice(0, 33 * w.cols)), w)).data;
      expect(Array.from(big.slice(0, 33 * w.rows))).toEqual(Array.from(small));
    }
  });

  it('small batches run the GEMV path once per row: every output row equals a one-row call, bit for bit', async () => {
    const one = make(1);
    const two = make(2);
    const exact = make(2, false);
    const cases: [PackedMatrix, number[]][] = [
      [randomQuantized(rng, 150, 8320, 4, 128, false), [2, 7, 32]], // Q4: 3 k-segments, claims cut blocks of quads
      [randomQuantized(rng, 37, 512, 8, 64, true), [3, 16]], // Q8
      [randomNMQuant(rng, 150, 8448, 2, 4, 4, 128, false), [2, 32]], // NMQ4
      [randomNMQuant(rng, 45, 512, 2, 4, 8, 64, true), [3, 16]], // NMQ4 with 8-bit codes
      [randomNMQuant(rng, 37, 256, 4, 8, 8, 128, false), [2, 16]], // NMQ4C with 8-bit codes
      [randomNMQuant(rng, 45, 512, 4, 8, 4, 64, true), [5, 17]], // NMQ4C, groups of 64
      [randomSpqr(rng, 70, 1024, 3, 16, 16), [4, 32]], // SpQR on Q4, outliers
      [randomNM(rng, 203, 1024, 2, 4), [2, 5]], // NM24 (f32; the sparse GEMM from batch 6)
      [randomNM(rng, 37, 512, 4, 8), [2, 3]], // NMG (f32; the sparse GEMM from batch 4)
    ];
    for (const [w, ms] of cases) {
      for (const m of ms) {
        const a = randn(m, w.cols);
        const path = packedPath(w, m, true).path;
        expect(path, `${w.kind} m=${m}`).toBe(packedPath(w, 1, true).path);
        // Exact mode takes a row GEMV only where it has an f32 GEMV path (2:4, any N:M); else the decode GEMM.
        const exactRows = ['nm24', 'nmg'].includes(packedPath(w, m, false).path);
        for (const be of exactRows ? [one, two, exact] : [one, two]) {
          const y = (await run(be, a, w)).data;
          for (let i = 0; i < m; i++) {
            const row = new Tensor('f32', [1, w.cols], a.data.slice(i * w.cols, (i + 1) * w.cols));
            expect(Array.from(y.slice(i * w.rows, (i + 1) * w.rows)), `${path} m=${m} row ${i}`).toEqual(Array.from((await run(be, row, w)).data));
          }
        }
      }
    }
    // int8Prefill: every batch of 2–4-bit §2 and SpQR weights runs the int8 GEMV per row, bit for bit as one-row calls.
    const prefill = createCpuWasmBackend({ threads: 2, minParallelWork: 0, int8Prefill: true });
    backends.push(prefill);
    for (const w of [randomQuantized(rng, 70, 1024, 4, 128, false), randomSpqr(rng, 37, 512, 3, 16, 16)]) {
      expect(packedPath(w, 129, true, true).path).toBe('q4');
      expect(packedPath(w, 129, true).path).toBe('generic');
      expect(packedPath(w, 129, false, true).path).toBe('generic');
      const a = randn(129, w.cols);
      const y = (await run(prefill, a, w)).data;
      for (const i of [0, 64, 128]) {
        const row = new Tensor('f32', [1, w.cols], a.data.slice(i * w.cols, (i + 1) * w.cols));
        expect(Array.from(y.slice(i * w.rows, (i + 1) * w.rows)), `int8Prefill ${w.kind} row ${i}`).toEqual(Array.from((await run(prefill, row, w)).data));
      }
    }
    expect(packedPath(randomNMQuant(rng, 8, 256, 2, 4, 4, 128, false), 129, true, true).path).toBe('sp24');
    // Past the thresholds: the GEMMs (f32 N:M from batch 8, Q8 and 2:4 + 8-bit from 17, the int8 4-bit paths from 33).
    expect(packedPath(randomQuantized(rng, 8, 256, 4, 128, false), 33, true).path).toBe('generic');
    expect(packedPath(randomQuantized(rng, 8, 256, 8, 128, false), 16, true).path).toBe('q8');
    expect(packedPath(randomQuantized(rng, 8, 256, 8, 128, false), 17, true).path).toBe('generic');
    expect(packedPath(randomNMQuant(rng, 8, 256, 2, 4, 8, 128, false), 16, true).path).toBe('nmq4');
    expect(packedPath(randomNMQuant(rng, 8, 256, 2, 4, 8, 128, false), 17, true).path).toBe('sp24');
    expect(packedPath(randomNMQuant(rng, 8, 256, 2, 4, 4, 128, false), 33, true).path).toBe('sp24');
    expect(packedPath(randomNM(rng, 8, 256, 2, 4), 8, true).path).toBe('sp24');
  });

  it('routes every N:M weight with M dividing 128 to a sparse kernel, never to the exact decode', () => {
    const cases: [PackedMatrix, number, string][] = [
      [randomNM(rng, 8, 256, 2, 4), 1, 'nm24'],
      [randomNM(rng, 8, 256, 2, 4), 16, 'sp24'],
      [randomNM(rng, 8, 260, 2, 4), 1, 'nmg'], // k % 8 = 4: no quad layout
      [randomNM(rng, 8, 260, 2, 4), 16, 'spnm'],
      [randomNMQuant(rng, 8, 256, 2, 4, 4, 128, false), 1, 'nmq4'],
      [randomNMQuant(rng, 8, 256, 2, 4, 4, 64, false), 1, 'nmq4'], // groups of 32 / 64: one step per group
      [randomNMQuant(rng, 8, 256, 4, 8, 4, 32, false), 1, 'nmq4c'],
      [randomNMQuant(rng, 8, 192, 2, 4, 4, 96, false), 1, 'nmg'], // groups of 96 would straddle 128-column steps
      [randomNMQuant(rng, 8, 384, 4, 8, 4, 192, false), 1, 'nmg'],
      [randomNMQuant(rng, 8, 256, 2, 4, 8, 64, false), 1, 'nmq4'], // 8-bit codes as bytes in the same stream
      [randomNMQuant(rng, 8, 192, 2, 4, 8, 96, false), 1, 'nmg'],
      [randomNMQuant(rng, 8, 256, 2, 4, 8, 64, false), 33, 'sp24'],
      [randomNMQuant(rng, 8, 256, 4, 8, 3, 128, false), 1, 'nmq4c'],
      [randomNMQuant(rng, 8, 256, 4, 8, 8, 128, false), 1, 'nmq4c'], // 8-bit codes as byte vectors
      [randomNMQuant(rng, 8, 256, 4, 8, 8, 128, false), 17, 'spnm'],
      [randomNMQuant(rng, 8, 192, 4, 8, 8, 96, false), 1, 'nmg'],
      [randomNM(rng, 8, 256, 1, 4), 16, 'spnm'],
      [randomNM(rng, 8, 48, 3, 6), 1, 'generic'], // M does not divide 128
    ];
    for (const [w, m, path] of cases) expect(packedPath(w, m, true).path, `${w.kind} ${(w as { n: number }).n}:${(w as { m: number }).m} k=${w.cols} m=${m}`).toBe(path);
  });

  it('decodes every format bit-exactly (GEMM with the identity as activations returns decode(w)ᵀ)', async () => {
    const be = make(2);
    const weights: PackedMatrix[] = [
      randomQuantized(rng, 19, 64, 4, 32, false), // SIMD 4-bit decode
      randomQuantized(rng, 70, 4608, 4, 512, false), // Q4 layout with 2 blocks and k-segments of 2560 + 2048
      randomQuantized(rng, 11, 48, 8, 16, true), // SIMD 8-bit decode
      randomQuantized(rng, 13, 21, 3, 7, false), // scalar decode
      // Row-major 4- / 8-bit spans off 16-code boundaries: SIMD middle, code-by-code ends (per-channel 172 as in
      // stories260K's down_proj; groups of 44 start at 44·t; a span shorter than one 16-code block).
      randomQuantized(rng, 9, 172, 4, 172, false),
      randomQuantized(rng, 11, 176, 4, 44, true),
      randomQuantized(rng, 7, 172, 8, 172, false),
      randomQuantized(rng, 5, 60, 8, 12, true),
      randomSpqr(rng, 9, 172, 4, 172, 5), // non-integer zero-points (f64 middle)
      randomQuantized(rng, 19, 256, 3, 64, false), // 3-bit codes held as nibbles (Q4 layout), SIMD 4-bit decode
      randomQuantized(rng, 9, 128, 2, 32, true),
      randomQuantized(rng, 9, 16, 2, 16, true),
      randomNM(rng, 15, 64, 2, 4), // sparse 2:4 GEMM
      randomNM(rng, 70, 2304, 2, 4), // several sparse-GEMM k-blocks and row blocks
      randomNM(rng, 7, 40, 3, 5),
      randomNMQuant(rng, 17, 256, 2, 4, 4, 128, false), // sparse 2:4 GEMM, SIMD kept-value decode
      randomNMQuant(rng, 10, 48, 4, 8, 3, 24, true),
      randomSpqr(rng, 21, 48, 3, 16, 5), // non-integer zero-points, outliers
      randomSpqr(rng, 19, 96, 3, 16, 5), // the Q4 layout: groups of 16 in half chunks, a partial last quad
      randomQuantized(rng, 19, 96, 4, 16, false), // §2 groups of 16 in the Q4 layout
      randomQuantized(rng, 13, 64, 3, 16, true),
      randomSpqr(rng, 10, 128, 4, 64, 16),
    ];
    for (const w of weights) {
      const k = w.cols;
      const eye = new Float32Array(k * k);
      for (let i = 0; i < k; i++) eye[i * k + i] = 1;
      const out = (await run(be, new Tensor('f32', [k, k], eye), w)).data;
      const ref = decodePacked(w);
      let mismatches = 0;
      for (let i = 0; i < k; i++) for (let j = 0; j < w.rows; j++) if (out[i * w.rows + j] !== ref[j * k + i]) mismatches++;
      expect(mismatches, `${w.kind} k=${k}`).toBe(0);
    }
  });

  it('relaxed-SIMD and baseline builds give bit-identical GEMV results, GEMMs equal up to the fused multiply-add', async () => {
    // vitest.config.ts passes --experimental-wasm-relaxed-simd; without it this check would silently not run.
    expect(relaxed, 'the engine lacks relaxed SIMD: run the tests with --experimental-wasm-relaxed-simd').toBe(true);
    const base = createCpuWasmBackend({ threads: 2, minParallelWork: 0, simd: 'baseline' });
    const rel = createCpuWasmBackend({ threads: 2, minParallelWork: 0, simd: 'relaxed' });
    backends.push(base, rel);
    for (const w of [
      randomQuantized(rng, 37, 512, 4, 128, false),
      randomQuantized(rng, 70, 8320, 4, 128, false),
      randomQuantized(rng, 9, 256, 4, 32, true),
      randomNMQuant(rng, 19, 512, 2, 4, 4, 128, false),
      randomNMQuant(rng, 37, 1024, 2, 4, 4, 256, true), // NMQ4 octets split between threads
      randomNM(rng, 21, 256, 2, 4),
      randomNMQuant(rng, 27, 512, 4, 8, 4, 128, false), // chunked N:M + 4-bit GEMV
      randomNMQuant(rng, 31, 384, 1, 4, 4, 128, true),
      randomNMQuant(rng, 19, 1024, 8, 16, 4, 256, true),
      randomNM(rng, 23, 388, 1, 4), // any-N:M gather GEMV and sparse GEMM
      randomNM(rng, 23, 1000, 4, 8), // 4:8 f32 GEMV (two-table gathers): a last partial 32-column step
      randomNMQuant(rng, 17, 392, 4, 8, 3, 56, true),
      randomQuantized(rng, 29, 512, 3, 128, false), // 3-bit as nibbles
      randomNMQuant(rng, 21, 512, 4, 8, 3, 128, false),
      randomSpqr(rng, 37, 512, 3, 16, 16), // SpQR on the 4-bit kernel, groups of 16
      randomSpqr(rng, 70, 8320, 2, 16, 16),
      randomNMQuant(rng, 19, 512, 2, 4, 4, 64, false), // N:M + 4-bit GEMVs with groups of 64 / 32
      randomQuantized(rng, 29, 512, 4, 16, true), // §2 groups of 16
      randomNMQuant(rng, 21, 512, 4, 8, 4, 32, true),
      randomSpqr(rng, 21, 256, 4, 128, 16),
    ]) {
      for (const m of [1, 9, 40]) {
        const a = randn(m, w.cols);
        const y = (await run(rel, a, w)).data;
        const y0 = (await run(base, a, w)).data;
        if (m === 1) {
          expect(Array.from(y)).toEqual(Array.from(y0));
        } else {
          // GEMM tiles (dense, decode-then-dense and sparse 2:4): one relaxed_madd (fused on x86 with FMA3) instead of a
          // multiply and an add — f32 rounding only, while both stay within f32 accuracy of the float64 reference
          // (checked in the test above).
          expect(nmse(y, y0)).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('gives bit-identical results on 1 and 2 threads', async () => {
    const one = make(1);
    const two = make(2);
    for (const w of [
      randomQuantized(rng, 45, 256, 4, 64, false),
      randomQuantized(rng, 150, 8320, 4, 128, false), // claims of 12 (2 threads) and 20 rows (1 thread) cut the Q4 layout's blocks of quads
      randomNM(rng, 41, 200, 2, 4),
      randomNM(rng, 150, 4160, 2, 4),
      randomNMQuant(rng, 43, 256, 2, 4, 4, 64, false),
      randomNMQuant(rng, 37, 512, 2, 4, 4, 128, false), // NMQ4 GEMV: claims of 4 (2 threads) and 8 rows (1 thread)
      randomNMQuant(rng, 150, 8448, 2, 4, 4, 128, true), // NMQ4 GEMV: claims of 12 rows cut octets (e.g. 10, in block 1); 3 k-segments
      randomSpqr(rng, 39, 64, 3, 16, 16),
      randomNM(rng, 203, 2048, 2, 4), // GEMV: 4 quad streams per claim, left-over quads, a partial last quad
      randomQuantized(rng, 1100, 128, 4, 128, false), // GEMV claims of 128 (2 threads) and 192 rows (1 thread)
      randomNMQuant(rng, 1100, 128, 2, 4, 4, 128, false),
      randomNM(rng, 1100, 128, 2, 4),
      randomNMQuant(rng, 150, 8448, 4, 8, 4, 128, false), // NMQ4C: 3 k-segments, claims cut octets
      randomNMQuant(rng, 1100, 256, 2, 8, 4, 128, true),
      randomNM(rng, 203, 1024, 4, 8), // 4:8 GEMV (4 rows per call, left-over rows one at a time), sparse GEMM
      randomNM(rng, 61, 1016, 4, 8), // 4:8 GEMV: 3 groups past the last whole 32-column step
      randomNMQuant(rng, 45, 388, 1, 4, 4, 4, false),
      randomQuantized(rng, 150, 8320, 3, 128, false), // 3-bit as nibbles: Q4 layout blocks and k-segments
      randomNMQuant(rng, 150, 8448, 2, 4, 3, 128, true),
      randomNM(rng, 203, 1028, 2, 4), // 2:4 off the 2:4 kernels (k % 8 = 4): 4-row gather GEMV, sparse GEMM
      randomSpqr(rng, 1100, 256, 3, 16, 16), // SpQR Q4 GEMV: claims of 128 and 192 rows
      randomNMQuant(rng, 150, 8448, 2, 4, 4, 64, false), // NMQ4 with groups of 64: 3 k-segments, claims cut octets
      randomQuantized(rng, 1100, 256, 4, 16, false), // Q4 with groups of 16: claims of 128 and 192 rows
      randomSpqr(rng, 150, 8320, 3, 16, 16), // claims cut blocks of quads; 3 k-segments
    ]) {
      // 9: one 16-row panel (the sparse GEMMs' one-panel tiles pair weight rows differently per thread split); 17: two.
      for (const m of [1, 6, 9, 17]) {
        const a = randn(m, w.cols);
        expect(Array.from((await run(two, a, w)).data)).toEqual(Array.from((await run(one, a, w)).data));
      }
    }
  });

  it('caches a packed weight by identity until release()', async () => {
    const be = make(2);
    const w = randomNM(rng, 12, 64, 2, 4);
    const a = randn(1, 64);
    const y1 = await run(be, a, w);
    const saved = w.values.slice();
    w.values.fill(0); // outside the contract: the cached copy keeps being used…
    expect(Array.from((await run(be, a, w)).data)).toEqual(Array.from(y1.data));
    be.release(w); // …until release()
    expect(Array.from((await run(be, a, w)).data).every((v) => v === 0)).toBe(true);
    be.release(w);
    w.values.set(saved);
    expect(Array.from((await run(be, a, w)).data)).toEqual(Array.from(y1.data));
  });

  it('keeps memory bounded over many upload/release cycles', async () => {
    const be = createCpuWasmBackend({ threads: 2, initialPages: 16 });
    backends.push(be);
    const a = randn(1, 1024);
    for (let i = 0; i < 20; i++) {
      const w = randomQuantized(rng, 256, 1024, 8, 128, true); // ~0.25 MiB each, 5 MiB if never freed
      await run(be, a, w);
      be.release(w);
    }
    const w = randomQuantized(rng, 64, 1024, 8, 128, true);
    const out = await run(be, a, w);
    expect(nmse(out.data, matmulPackedRef(a, w).data)).toBeLessThan(1e-3);
  });

  it('reports mismatched shapes and kinds, and rejects malformed contents with E_ARG', async () => {
    const be = make(1);
    const w = randomNM(rng, 4, 16, 2, 4);
    expect(be.supports('matmulNM', { a: randn(1, 8), w }, {})).toMatch(/16 columns/);
    expect(be.supports('matmulQuant', { a: randn(1, 16), w: w as never }, {})).toMatch(/'quant'/);
    expect(be.supports('matmulNM', { a: randn(1, 16), w: { ...w, values: new Float32Array(3) } }, {})).toMatch(/values length/);
    const badIdx = { ...w, indices: new Uint8Array(w.indices.length).fill(0) }; // positions [0, 0]: not increasing
    let err: unknown;
    try {
      await be.run('matmulNM', { a: randn(1, 16), w: badIdx }, {});
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_ARG');
    const s = randomSpqr(rng, 3, 32, 3, 16, 16);
    const badOutlier = { ...s, outliers: { rowPtr: Uint32Array.from([0, 1, 1, 1]), cols: Uint16Array.from([32]), values: Uint16Array.from([0]) } };
    await expect(be.run('matmulSpqr', { a: randn(1, 32), w: badOutlier }, {})).rejects.toThrow(/column out of range/);
  });
});
