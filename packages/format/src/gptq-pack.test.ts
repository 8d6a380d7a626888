import { createRng, isSparqError, type PackedBits } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { exportGptq, importGptq } from './gptq-pack';
import { decodeQuantized, encodeQuantized } from './quant-codec';
import { refF16, sameF32 } from './test-reference';

const rng = createRng(9);

/**
 * Independent reference: AutoGPTQ `QuantLinear.pack` (qlinear_cuda_old.py),
 * transcribed loop for loop — including the explicit 3-bit branch — over
 * `intweight [K, N]` (uint32 arithmetic via >>> 0).
 */
function autogptqPackRows(intweight: number[][], bits: number): number[][] {
  const rows = (intweight.length / 32) * bits;
  const cols = intweight[0]!.length;
  const q = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  const or = (r: number, c: number, v: number): void => { q[r]![c] = (q[r]![c]! | v) >>> 0; };
  let i = 0;
  let row = 0;
  while (row < rows) {
    for (let c = 0; c < cols; c++) {
      let ii = i;
      let rr = row;
      if (bits !== 3) {
        for (let j = ii; j < ii + 32 / bits; j++) or(rr, c, intweight[j]![c]! << (bits * (j - ii)));
      } else {
        for (let j = ii; j < ii + 10; j++) or(rr, c, intweight[j]![c]! << (3 * (j - ii)));
        ii += 10;
        or(rr, c, intweight[ii]![c]! << 30);
        rr++;
        or(rr, c, (intweight[ii]![c]! >> 2) & 1);
        ii++;
        for (let j = ii; j < ii + 10; j++) or(rr, c, intweight[j]![c]! << (3 * (j - ii) + 1));
        ii += 10;
        or(rr, c, intweight[ii]![c]! << 31);
        rr++;
        or(rr, c, (intweight[ii]![c]! >> 1) & 0x3);
        ii++;
        for (let j = ii; j < ii + 10; j++) or(rr, c, intweight[j]![c]! << (3 * (j - ii) + 2));
      }
    }
    i += bits !== 3 ? 32 / bits : 32;
    row += bits !== 3 ? 1 : 3;
  }
  return q;
}

function transpose(a: number[][]): number[][] {
  return a[0]!.map((_, j) => a.map((r) => r[j]!));
}

describe('GPTQ interop', () => {
  for (const bits of [2, 3, 4, 8] as PackedBits[]) {
    it(`${bits}-bit: qweight/qzeros match AutoGPTQ pack(), dequantization matches, round-trip`, () => {
      const N = 64;
      const K = 96;
      const gs = 32;
      const G = K / gs;
      const codes = new Uint8Array(N * K).map(() => rng.int(1 << bits));
      const zeros = new Uint8Array(N * G).map(() => 1 + rng.int((1 << bits) - 1));
      const m = encodeQuantized({ rows: N, cols: K, bits, groupSize: gs, sym: false, codes, scales: new Float32Array(N * G).map(() => rng.float() * 0.1), zeros });
      const t = exportGptq(m);
      // qweight: AutoGPTQ packs intweight [K, N]
      const intweight = Array.from({ length: K }, (_, k) => Array.from({ length: N }, (_, n) => codes[n * K + k]!));
      const want = autogptqPackRows(intweight, bits);
      expect(Array.from(t.qweight, (v) => v >>> 0)).toEqual(want.flat());
      // qzeros: AutoGPTQ packs (zeros − 1) [G, N] along N — the same loop on the transpose
      const zm1 = Array.from({ length: G }, (_, g) => Array.from({ length: N }, (_, n) => zeros[n * G + g]! - 1));
      expect(Array.from(t.qzeros, (v) => v >>> 0)).toEqual(transpose(autogptqPackRows(transpose(zm1), bits)).flat());
      expect(Array.from(t.gIdx)).toEqual(Array.from({ length: K }, (_, k) => Math.floor(k / gs)));
      // Dequantization the AutoGPTQ way: scales[g_idx[k], n] · (q[k, n] − (stored zero + 1)).
      const deq = new Float32Array(N * K);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
        const g = t.gIdx[k]!;
        deq[n * K + k] = Math.fround(refF16(t.scales[g * N + n]!) * (codes[n * K + k]! - (zm1[g]![n]! + 1)));
      }
      expect(sameF32(decodeQuantized(m), deq)).toBe(true);
      const back = importGptq(t);
      expect(back.perm).toBeUndefined();
      expect(back.matrix).toEqual(m);
      // v2 round trip
      expect(importGptq(exportGptq(m, { zeros: 'v2' }), { zeros: 'v2' }).matrix).toEqual(m);
    });
  }

  it('act-order: g_idx from a permutation, import recovers matrix and perm', () => {
    const N = 32;
    const K = 64;
    const gs = 16;
    const G = K / gs;
    const perm = Array.from({ length: K }, (_, i) => i).sort(() => rng.float() - 0.5);
    const m = encodeQuantized({ rows: N, cols: K, bits: 4, groupSize: gs, sym: true, codes: new Uint8Array(N * K).map(() => rng.int(16)), scales: new Float32Array(N * G).fill(0.5) });
    const t = exportGptq(m, { perm });
    for (let j = 0; j < K; j++) expect(t.gIdx[perm[j]!]).toBe(Math.floor(j / gs));
    // symmetric → every stored v1 zero is 2^(b−1) − 1 = 7
    for (const w of t.qzeros) expect(w >>> 0).toBe(0x77777777);
    const back = importGptq(t);
    expect(back.matrix.sym).toBe(true);
    // columns come back in group order (stable), which is the original permuted order within groups sorted by column
    const dense = decodeQuantized(m);
    const dBack = decodeQuantized(back.matrix);
    for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) {
      const orig = back.perm![j]!;
      const jm = perm.indexOf(orig);
      expect(dBack[n * K + j]).toBe(dense[n * K + jm]);
    }
  });

  it('golden: 4-bit K = N = 32, codes = k mod 16 → qweight words 0x76543210 / 0xfedcba98', () => {
    const N = 32;
    const K = 32;
    const codes = new Uint8Array(N * K).map((_, i) => (i % K) % 16);
    const m = encodeQuantized({ rows: N, cols: K, bits: 4, groupSize: 32, sym: true, codes, scales: new Float32Array(N).fill(1) });
    const t = exportGptq(m);
    expect(t.qweight.length).toBe(4 * 32);
    expect(t.qweight[0]! >>> 0).toBe(0x76543210);
    expect(t.qweight[N]! >>> 0).toBe(0xfedcba98);
  });

  it('rejects what GPTQ cannot hold', () => {
    const code = (f: () => unknown): string | undefined => {
      try { f(); } catch (e) { return isSparqError(e) ? e.code : 'other'; }
      return undefined;
    };
    const zero0 = encodeQuantized({ rows: 32, cols: 32, bits: 4, groupSize: 32, sym: false, codes: new Uint8Array(1024), scales: new Float32Array(32), zeros: new Uint8Array(32) });
    expect(code(() => exportGptq(zero0))).toBe('E_ARG');
    expect(code(() => exportGptq(zero0, { zeros: 'v2' }))).toBeUndefined();
    expect(code(() => exportGptq(encodeQuantized({ rows: 8, cols: 32, bits: 4, groupSize: 32, sym: true, codes: new Uint8Array(256), scales: new Float32Array(8) })))).toBe('E_SHAPE_MISMATCH');
    // a v1 zero stored as 15 would decode to 16
    const t = exportGptq(zero0, { zeros: 'v2' });
    const bad = { ...t, qzeros: new Int32Array(t.qzeros.length).fill(-1) };
    expect(code(() => importGptq(bad))).toBe('E_ARG');
    const badIdx = { ...t, gIdx: new Int32Array(32).fill(0).map((_, i) => (i === 0 ? 1 : 0)) };
    expect(code(() => importGptq(badIdx))).toBe('E_ARG');
  });
});
