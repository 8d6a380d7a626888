/**
 * GPTQ checkpoint interop (docs/format.md §11): the int32 packing used by
 * AutoGPTQ / GPTQModel / HF `GPTQConfig` checkpoints.
 *
 * - `qweight` int32 `[K·bits/32, N]`: column `n` (output feature) holds the K
 *   codes of that output, packed along K as one LSB-first bit stream cut into
 *   32-bit words — element `k` at stream bits `[k·bits, k·bits + bits)`. For
 *   bits ∈ {2, 4, 8} that is `32/bits` codes per word; for 3 bits, 32 codes per
 *   3 words with codes 10 and 21 straddling words (AutoGPTQ `pack()`).
 * - `qzeros` int32 `[G, N·bits/32]`: row `g` packs the N zero-points of group
 *   `g` the same way along N. Convention **v1** (AutoGPTQ, `gptq` checkpoint
 *   format) stores `zero − 1` and adds 1 when loading; **v2** (GPTQModel
 *   `gptq_v2`) stores `zero` itself.
 * - `scales` f16 `[G, N]`; `g_idx` int32 `[K]`: the group of input column `k`
 *   (`k / groupSize` without act-order; any assignment with act-order).
 *
 * sparq's {@link QuantizedMatrix} is `[N, K]` with contiguous groups, so an
 * act-order checkpoint imports as a matrix over permuted columns plus `perm`.
 */
import { SparqError, type PackedBits, type QuantizedMatrix } from '@sparq/tensor';
import { expectLength, expectQuantBits } from './checks';
import { packBits, packedRowBytes, unpackBits } from './pack-bits';
import { validateQuantized } from './quant-codec';

/** Zero-point convention: v1 stores `zero − 1` (AutoGPTQ), v2 stores `zero` (GPTQModel). */
export type GptqZeroConvention = 'v1' | 'v2';

/** The four tensors of one GPTQ-packed linear layer. */
export interface GptqTensors {
  readonly bits: PackedBits;
  /** K: input features. */
  readonly inFeatures: number;
  /** N: output features. */
  readonly outFeatures: number;
  /** `[K·bits/32, N]` int32. */
  readonly qweight: Int32Array;
  /** `[G, N·bits/32]` int32. */
  readonly qzeros: Int32Array;
  /** `[G, N]` f16 bit patterns. */
  readonly scales: Uint16Array;
  /** `[K]` group of each input column. */
  readonly gIdx: Int32Array;
}

function checkDims(what: string, k: number, n: number): void {
  if (k % 32 !== 0 || n % 32 !== 0 || k <= 0 || n <= 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: GPTQ packing needs in and out features divisible by 32, found K = ${k}, N = ${n}`, {
      details: { tensor: what, expected: 'K % 32 = 0 and N % 32 = 0', found: [k, n] },
    });
  }
}

/**
 * Packs `lines` streams of `count` codes each into 32-bit words: returns
 * `[count·bits/32, lines]` (word-major, as qweight) when `transpose`, else
 * `[lines, count·bits/32]` (as qzeros).
 */
function packWords(codes: Uint8Array, lines: number, count: number, bits: number, transpose: boolean): Int32Array {
  const packed = packBits(codes, lines, count, bits);
  const words = (count * bits) / 32;
  const rowBytes = packedRowBytes(count, bits);
  const dv = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const out = new Int32Array(words * lines);
  for (let l = 0; l < lines; l++) {
    for (let w = 0; w < words; w++) {
      const v = dv.getInt32(l * rowBytes + 4 * w, true);
      out[transpose ? w * lines + l : l * words + w] = v;
    }
  }
  return out;
}

/** Inverse of {@link packWords}: `[lines, count]` codes. */
function unpackWords(words32: Int32Array, lines: number, count: number, bits: number, transpose: boolean): Uint8Array {
  const words = (count * bits) / 32;
  const rowBytes = packedRowBytes(count, bits);
  const bytes = new Uint8Array(lines * rowBytes);
  const dv = new DataView(bytes.buffer);
  for (let l = 0; l < lines; l++) {
    for (let w = 0; w < words; w++) dv.setInt32(l * rowBytes + 4 * w, words32[transpose ? w * lines + l : l * words + w]!, true);
  }
  return unpackBits(bytes, lines, count, bits);
}

/** Options of {@link exportGptq}. */
export interface GptqExportOptions {
  /** Zero-point convention (default `v1`, what AutoGPTQ and HF `gptq` checkpoints use). */
  zeros?: GptqZeroConvention;
  /**
   * Act-order: `perm[j]` = original input column of the matrix's column `j`
   * (the matrix is in quantization order). Omit for the identity.
   */
  perm?: ArrayLike<number>;
}

function checkPerm(what: string, perm: ArrayLike<number>, k: number): void {
  expectLength(`${what} perm`, perm.length, k);
  const seen = new Uint8Array(k);
  for (let j = 0; j < k; j++) {
    const p = perm[j]!;
    if (!Number.isInteger(p) || p < 0 || p >= k || seen[p]) {
      throw new SparqError('E_ARG', `${what}: perm is not a permutation of 0..${k - 1} (entry ${j} = ${p})`, { details: { tensor: what, found: p } });
    }
    seen[p] = 1;
  }
}

/**
 * Exports a {@link QuantizedMatrix} (`[N, K]`) as GPTQ tensors. Throws
 * `E_SHAPE_MISMATCH` unless K and N are multiples of 32, and `E_ARG` for a
 * zero-point 0 under v1 (AutoGPTQ would store −1, which its packer smears
 * over neighbouring zeros and its loader reads back as 2^bits).
 */
export function exportGptq(m: QuantizedMatrix, options: GptqExportOptions = {}, what = 'weight'): GptqTensors {
  validateQuantized(m, what);
  const K = m.cols;
  const N = m.rows;
  checkDims(what, K, N);
  const G = K / m.groupSize;
  const conv = options.zeros ?? 'v1';
  if (options.perm) checkPerm(what, options.perm, K);
  const perm = options.perm;

  // Codes: ours are [N, K] in (permuted) column order; GPTQ wants per output n the K codes in original order.
  const ours = unpackBits(m.codes, N, K, m.bits, `${what}.codes`);
  const lines = new Uint8Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < K; j++) lines[n * K + (perm ? perm[j]! : j)] = ours[n * K + j]!;
  }
  const qweight = packWords(lines, N, K, m.bits, true);

  const z0 = 1 << (m.bits - 1);
  const zeros = m.zeros ? unpackBits(m.zeros, N, G, m.bits, `${what}.zeros`) : undefined;
  const zt = new Uint8Array(G * N);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      const z = zeros ? zeros[n * G + g]! : z0;
      if (conv === 'v1' && z === 0) {
        throw new SparqError('E_ARG', `${what}: zero-point 0 (row ${n}, group ${g}) cannot be stored in the GPTQ v1 convention`, {
          details: { tensor: what, expected: 'zero-points ≥ 1 for v1', found: 0 },
          hint: 'export with the v2 zero convention (GPTQModel gptq_v2), or quantize with zero-points ≥ 1',
        });
      }
      zt[g * N + n] = conv === 'v1' ? z - 1 : z;
    }
  }
  const qzeros = packWords(zt, G, N, m.bits, false);

  const scales = new Uint16Array(G * N);
  for (let g = 0; g < G; g++) for (let n = 0; n < N; n++) scales[g * N + n] = m.scales[n * G + g]!;

  const gIdx = new Int32Array(K);
  for (let j = 0; j < K; j++) gIdx[perm ? perm[j]! : j] = Math.floor(j / m.groupSize);
  return { bits: m.bits, inFeatures: K, outFeatures: N, qweight, qzeros, scales, gIdx };
}

/** Options of {@link importGptq}. */
export interface GptqImportOptions {
  /** Zero-point convention of the checkpoint (default `v1`). */
  zeros?: GptqZeroConvention;
  /** Mark the result symmetric when every zero-point is `2^(bits−1)` (default true). */
  detectSym?: boolean;
}

/** What {@link importGptq} returns. */
export interface GptqImport {
  /** `[N, K]` over columns in group order (identical to original order without act-order). */
  readonly matrix: QuantizedMatrix;
  /** With act-order: `perm[j]` = original input column of matrix column `j`. */
  readonly perm?: Int32Array;
}

/**
 * Imports GPTQ tensors as a {@link QuantizedMatrix}. Throws `E_SHAPE_MISMATCH`
 * for tensor sizes that disagree, `E_ARG` when `g_idx` does not give every
 * group the same number of columns or a v1 zero-point decodes to `2^bits`.
 */
export function importGptq(t: GptqTensors, options: GptqImportOptions = {}, what = 'weight'): GptqImport {
  const { bits, inFeatures: K, outFeatures: N } = t;
  expectQuantBits(what, bits);
  checkDims(what, K, N);
  expectLength(`${what}.qweight`, t.qweight.length, ((K * bits) / 32) * N);
  expectLength(`${what}.g_idx`, t.gIdx.length, K);
  const G = t.scales.length / N;
  if (!Number.isInteger(G) || G < 1 || K % G !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}.scales: ${t.scales.length} values is not [G, ${N}] with G dividing ${K}`, {
      details: { tensor: `${what}.scales`, expected: `G·${N} with G | ${K}`, found: t.scales.length },
    });
  }
  expectLength(`${what}.qzeros`, t.qzeros.length, G * ((N * bits) / 32));
  const groupSize = K / G;

  // Group order: stable sort of input columns by g_idx; every group must hold groupSize columns.
  const count = new Int32Array(G);
  for (let k = 0; k < K; k++) {
    const g = t.gIdx[k]!;
    if (g < 0 || g >= G) throw new SparqError('E_ARG', `${what}.g_idx: column ${k} names group ${g}, outside [0, ${G})`, { details: { tensor: `${what}.g_idx`, found: g } });
    count[g]!++;
  }
  for (let g = 0; g < G; g++) {
    if (count[g] !== groupSize) {
      throw new SparqError('E_ARG', `${what}.g_idx: group ${g} has ${count[g]} columns, expected ${groupSize}`, {
        details: { tensor: `${what}.g_idx`, expected: groupSize, found: count[g] },
      });
    }
  }
  const start = new Int32Array(G);
  for (let g = 1; g < G; g++) start[g] = start[g - 1]! + groupSize;
  const perm = new Int32Array(K);
  let identity = true;
  for (let k = 0; k < K; k++) {
    const j = start[t.gIdx[k]!]!++;
    perm[j] = k;
    if (j !== k) identity = false;
  }

  const lines = unpackWords(t.qweight, N, K, bits, true);
  const codes = new Uint8Array(N * K);
  for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) codes[n * K + j] = lines[n * K + perm[j]!]!;

  const zt = unpackWords(t.qzeros, G, N, bits, false);
  const conv = options.zeros ?? 'v1';
  const zeros = new Uint8Array(N * G);
  const z0 = 1 << (bits - 1);
  let sym = options.detectSym ?? true;
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      const z = conv === 'v1' ? zt[g * N + n]! + 1 : zt[g * N + n]!;
      if (z > (1 << bits) - 1) {
        throw new SparqError('E_ARG', `${what}.qzeros: v1 zero-point of row ${n}, group ${g} decodes to ${z}, beyond ${bits} bits`, {
          details: { tensor: `${what}.qzeros`, expected: `≤ ${(1 << bits) - 1}`, found: z },
          hint: 'the checkpoint may use the v2 zero convention (GPTQModel gptq_v2); import with zeros: "v2"',
        });
      }
      zeros[n * G + g] = z;
      if (z !== z0) sym = false;
    }
  }
  const scales = new Uint16Array(N * G);
  for (let g = 0; g < G; g++) for (let n = 0; n < N; n++) scales[n * G + g] = t.scales[g * N + n]!;

  const matrix: QuantizedMatrix = {
    kind: 'quant', rows: N, cols: K, bits, groupSize, sym,
    codes: packBits(codes, N, K, bits),
    scales,
    ...(sym ? {} : { zeros: packBits(zeros, N, G, bits) }),
  };
  return identity ? { matrix } : { matrix, perm };
}
