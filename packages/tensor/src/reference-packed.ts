/**
 * Reference (oracle) decoders and kernels for the packed weight layouts of
 * `docs/format.md` §1–§6. Written straight from the spec, element by element,
 * with no shared code with any encoder or backend: they are the independent
 * second implementation that encoders and compressed kernels are checked
 * against. Slow on purpose.
 *
 * Dequantization follows §2 exactly: `w = fround(scale · (q − zero))`, the
 * product taken in float64 (exact for f16 scales and integer zero-points) and
 * rounded once to f32. For SpQR's non-integer zero-points (§6) the same float64
 * expression is the definition.
 */
import type { KernelInputs } from './backend';
import { SparqError } from './errors';
import { f16ToF32 } from './half';
import type { BilevelStat, NMMatrix, NMQuantMatrix, PackedMatrix, QuantizedMatrix, SpqrMatrix } from './packed';
import { Tensor } from './tensor';

const BITS: readonly number[] = [2, 3, 4, 8];

/** Bytes of one packed row of `count` codes of `bits` bits (§1). */
export function packedRowBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

/** Bits of one N:M in-group index: `ceil(log2 m)` (§3) — 1 for m = 2, 2 for m ≤ 4, 3 for m ≤ 8, 4 for m ≤ 16. */
export function nmIndexBits(m: number): number {
  return Math.max(1, Math.ceil(Math.log2(m)));
}

/**
 * Reads `count` codes of `bits` bits starting at byte `offset` of `bytes`,
 * LSB-first (§1): element `i` occupies stream bits `[i·b, i·b + b)`, stream bit
 * `k` being bit `k mod 8` of byte `floor(k / 8)`.
 */
export function unpackBits(bytes: Uint8Array, offset: number, count: number, bits: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let q = 0;
    for (let t = 0; t < bits; t++) {
      const k = i * bits + t;
      q |= ((bytes[offset + (k >> 3)]! >> (k & 7)) & 1) << t;
    }
    out[i] = q;
  }
  return out;
}

function fail(what: string, expected: unknown, found: unknown, tensor?: string): never {
  throw new SparqError('E_SHAPE_MISMATCH', `packed ${tensor ?? 'weight'}: ${what}: expected ${String(expected)}, found ${String(found)}`, {
    details: { expected, found, ...(tensor ? { tensor } : {}) },
    hint: 'packed layouts are specified in docs/format.md §1–§6',
  });
}

function checkLen(name: string, arr: { length: number } | undefined, expected: number, tensor?: string): void {
  if (!arr) fail(`${name} is missing`, `${expected} elements`, 'undefined', tensor);
  if (arr.length !== expected) fail(`${name} length`, expected, arr.length, tensor);
}

function checkDims(w: { rows: number; cols: number }, tensor?: string): void {
  for (const d of ['rows', 'cols'] as const) {
    if (!Number.isInteger(w[d]) || w[d] < 0) fail(d, 'a non-negative integer', w[d], tensor);
  }
}

function checkBits(bits: number, what: string, tensor?: string): void {
  if (!BITS.includes(bits)) fail(what, 'one of 2, 3, 4, 8', bits, tensor);
}

function checkGroup(groupSize: number, cols: number, tensor?: string, multipleOf = 1): void {
  if (!Number.isInteger(groupSize) || groupSize < 1 || cols % groupSize !== 0 || groupSize % multipleOf !== 0) {
    fail(`groupSize (cols = ${cols})`, `a divisor of cols${multipleOf > 1 ? ` and a multiple of m = ${multipleOf}` : ''}`, groupSize, tensor);
  }
}

function checkNM(w: { n: number; m: number; cols: number }, tensor?: string): void {
  if (!Number.isInteger(w.n) || !Number.isInteger(w.m) || w.n < 1 || w.n >= w.m || w.m > 16) {
    fail('N:M', '1 ≤ n < m ≤ 16', `${w.n}:${w.m}`, tensor);
  }
  if (w.cols % w.m !== 0) fail(`cols for ${w.n}:${w.m}`, `a multiple of ${w.m}`, w.cols, tensor);
}

function checkStat(stat: BilevelStat, rows: number, groups: number, name: string, tensor?: string): void {
  checkBits(stat.bits, `${name}.bits`, tensor);
  if (!Number.isInteger(stat.groupRows) || stat.groupRows < 1) fail(`${name}.groupRows`, 'a positive integer', stat.groupRows, tensor);
  checkLen(`${name}.codes`, stat.codes, rows * packedRowBytes(groups, stat.bits), tensor);
  const rg = Math.ceil(rows / stat.groupRows);
  checkLen(`${name}.scale`, stat.scale, rg * groups, tensor);
  checkLen(`${name}.zero`, stat.zero, rg * groups, tensor);
}

/**
 * Checks every size and shape field of a packed matrix against §1–§6 and
 * throws `E_SHAPE_MISMATCH` (naming `tensor`, expected vs. found) on the first
 * violation. Contents (index order, outlier columns) are checked by the decoders.
 */
export function validatePacked(w: PackedMatrix, tensor?: string): void {
  checkDims(w, tensor);
  const { rows, cols } = w;
  switch (w.kind) {
    case 'quant': {
      checkBits(w.bits, 'bits', tensor);
      checkGroup(w.groupSize, cols, tensor);
      const G = cols / w.groupSize;
      checkLen('codes', w.codes, rows * packedRowBytes(cols, w.bits), tensor);
      checkLen('scales', w.scales, rows * G, tensor);
      if (w.sym) {
        if (w.zeros !== undefined) fail('zeros of a symmetric matrix', 'none', `${w.zeros.length} bytes`, tensor);
      } else checkLen('zeros', w.zeros, rows * packedRowBytes(G, w.bits), tensor);
      return;
    }
    case 'nm': {
      checkNM(w, tensor);
      const L = (cols / w.m) * w.n;
      checkLen('values', w.values, rows * L, tensor);
      checkLen('indices', w.indices, rows * packedRowBytes(L, nmIndexBits(w.m)), tensor);
      return;
    }
    case 'nm-quant': {
      checkNM(w, tensor);
      checkBits(w.bits, 'bits', tensor);
      checkGroup(w.groupSize, cols, tensor, w.m);
      const L = (cols / w.m) * w.n;
      const G = cols / w.groupSize;
      checkLen('codes', w.codes, rows * packedRowBytes(L, w.bits), tensor);
      checkLen('scales', w.scales, rows * G, tensor);
      if (w.sym) {
        if (w.zeros !== undefined) fail('zeros of a symmetric matrix', 'none', `${w.zeros.length} bytes`, tensor);
      } else checkLen('zeros', w.zeros, rows * packedRowBytes(G, w.bits), tensor);
      checkLen('indices', w.indices, rows * packedRowBytes(L, nmIndexBits(w.m)), tensor);
      return;
    }
    case 'spqr': {
      checkBits(w.bits, 'bits', tensor);
      checkGroup(w.groupSize, cols, tensor);
      const G = cols / w.groupSize;
      checkLen('codes', w.codes, rows * packedRowBytes(cols, w.bits), tensor);
      checkStat(w.scales, rows, G, 'scales', tensor);
      checkStat(w.zeros, rows, G, 'zeros', tensor);
      const o = w.outliers;
      checkLen('outliers.rowPtr', o.rowPtr, rows + 1, tensor);
      const nnz = o.rowPtr[rows]!;
      if (o.rowPtr[0] !== 0) fail('outliers.rowPtr[0]', 0, o.rowPtr[0], tensor);
      checkLen('outliers.cols', o.cols, nnz, tensor);
      checkLen('outliers.values', o.values, nnz, tensor);
      if (cols > 65536 && !(o.cols instanceof Uint32Array)) fail('outliers.cols type (cols > 65536)', 'Uint32Array', 'Uint16Array', tensor);
      return;
    }
    default: {
      const kind: unknown = (w as { kind: unknown }).kind;
      throw new SparqError('E_ARG', `unknown packed matrix kind ${String(kind)}`, { details: { expected: 'quant | nm | nm-quant | spqr', found: kind } });
    }
  }
}

/** Dequantizes one value per §2: `fround(scale · (q − zero))`, product in float64. */
function dequant(scale: number, q: number, zero: number): number {
  return Math.fround(scale * (q - zero));
}

/**
 * Per-group scales (f16 widened) and zero-points of a §2 layout as plain
 * numbers, `[rows, groups]` row-major. Symmetric: zero = `2^(bits−1)`.
 */
function groupStats(
  rows: number,
  groups: number,
  bits: number,
  scales: Uint16Array,
  zeros: Uint8Array | undefined,
  sym: boolean,
): { scale: Float64Array; zero: Float64Array } {
  const scale = new Float64Array(rows * groups);
  const zero = new Float64Array(rows * groups);
  const zb = packedRowBytes(groups, bits);
  for (let r = 0; r < rows; r++) {
    const z = sym ? undefined : unpackBits(zeros!, r * zb, groups, bits);
    for (let t = 0; t < groups; t++) {
      scale[r * groups + t] = f16ToF32(scales[r * groups + t]!);
      zero[r * groups + t] = z ? z[t]! : 2 ** (bits - 1);
    }
  }
  return { scale, zero };
}

/** Decodes a §2 group-quantized matrix to f32 `[rows, cols]`, bit-exact. */
export function decodeQuantized(w: QuantizedMatrix): Float32Array {
  validatePacked(w);
  const { rows, cols, bits, groupSize } = w;
  const G = cols / groupSize;
  const { scale, zero } = groupStats(rows, G, bits, w.scales, w.zeros, w.sym);
  const out = new Float32Array(rows * cols);
  const rb = packedRowBytes(cols, bits);
  for (let r = 0; r < rows; r++) {
    const q = unpackBits(w.codes, r * rb, cols, bits);
    for (let c = 0; c < cols; c++) {
      const t = r * G + Math.floor(c / groupSize);
      out[r * cols + c] = dequant(scale[t]!, q[c]!, zero[t]!);
    }
  }
  return out;
}

/** Reads the in-group indices of one row and checks they are strictly increasing and below `m` (§3). */
function rowIndices(indices: Uint8Array, r: number, L: number, n: number, m: number): Uint8Array {
  const ib = nmIndexBits(m);
  const idx = unpackBits(indices, r * packedRowBytes(L, ib), L, ib);
  for (let s = 0; s < L; s++) {
    const bad = idx[s]! >= m || (s % n !== 0 && idx[s]! <= idx[s - 1]!);
    if (bad) {
      throw new SparqError('E_ARG', `N:M indices of row ${r}, group ${Math.floor(s / n)} are not strictly increasing positions below ${m}`, {
        details: { expected: `strictly increasing in [0, ${m})`, found: Array.from(idx.subarray(s - (s % n), s - (s % n) + n)) },
      });
    }
  }
  return idx;
}

/** Decodes a §3 N:M matrix to dense f32 `[rows, cols]`. */
export function decodeNM(w: NMMatrix): Float32Array {
  validatePacked(w);
  const { rows, cols, n, m } = w;
  const L = (cols / m) * n;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const idx = rowIndices(w.indices, r, L, n, m);
    for (let s = 0; s < L; s++) out[r * cols + Math.floor(s / n) * m + idx[s]!] = w.values[r * L + s]!;
  }
  return out;
}

/** Decodes a §4 N:M + quantized matrix to dense f32 `[rows, cols]`: dequantize (§2), then scatter (§3). */
export function decodeNMQuant(w: NMQuantMatrix): Float32Array {
  validatePacked(w);
  const { rows, cols, n, m, bits, groupSize } = w;
  const L = (cols / m) * n;
  const G = cols / groupSize;
  const { scale, zero } = groupStats(rows, G, bits, w.scales, w.zeros, w.sym);
  const slotsPerGroup = (groupSize / m) * n;
  const out = new Float32Array(rows * cols);
  const rb = packedRowBytes(L, bits);
  for (let r = 0; r < rows; r++) {
    const idx = rowIndices(w.indices, r, L, n, m);
    const q = unpackBits(w.codes, r * rb, L, bits);
    for (let s = 0; s < L; s++) {
      const t = r * G + Math.floor(s / slotsPerGroup);
      out[r * cols + Math.floor(s / n) * m + idx[s]!] = dequant(scale[t]!, q[s]!, zero[t]!);
    }
  }
  return out;
}

/**
 * First-level values of a §6 bilevel statistic, `[rows, groups]`:
 * `fround(f32(statScale) · (code − f32(statZero)))` per second-level group of `groupRows` rows.
 */
export function decodeBilevelStat(stat: BilevelStat, rows: number, groups: number): Float32Array {
  const out = new Float32Array(rows * groups);
  const cb = packedRowBytes(groups, stat.bits);
  for (let r = 0; r < rows; r++) {
    const codes = unpackBits(stat.codes, r * cb, groups, stat.bits);
    const rg = Math.floor(r / stat.groupRows);
    for (let t = 0; t < groups; t++) {
      out[r * groups + t] = dequant(f16ToF32(stat.scale[rg * groups + t]!), codes[t]!, f16ToF32(stat.zero[rg * groups + t]!));
    }
  }
  return out;
}

/** Decodes a SpQR matrix (§2 base with §6 statistics, then §5 outliers overwrite) to dense f32 `[rows, cols]`. */
export function decodeSpqr(w: SpqrMatrix): Float32Array {
  validatePacked(w);
  const { rows, cols, bits, groupSize } = w;
  const G = cols / groupSize;
  const scale = decodeBilevelStat(w.scales, rows, G);
  const zero = decodeBilevelStat(w.zeros, rows, G);
  const out = new Float32Array(rows * cols);
  const rb = packedRowBytes(cols, bits);
  const o = w.outliers;
  for (let r = 0; r < rows; r++) {
    const q = unpackBits(w.codes, r * rb, cols, bits);
    for (let c = 0; c < cols; c++) {
      const t = r * G + Math.floor(c / groupSize);
      out[r * cols + c] = dequant(scale[t]!, q[c]!, zero[t]!);
    }
    const p0 = o.rowPtr[r]!;
    const p1 = o.rowPtr[r + 1]!;
    if (p1 < p0) fail(`outliers.rowPtr[${r + 1}]`, `≥ ${p0}`, p1);
    for (let p = p0; p < p1; p++) {
      const c = o.cols[p]!;
      if (c >= cols || (p > p0 && c <= o.cols[p - 1]!)) {
        throw new SparqError('E_ARG', `SpQR outlier ${p} of row ${r}: column ${c} is out of range or not increasing`, {
          details: { expected: `strictly increasing columns in [0, ${cols})`, found: c },
        });
      }
      out[r * cols + c] = f16ToF32(o.values[p]!);
    }
  }
  return out;
}

/** Decodes any packed matrix to dense f32 `[rows, cols]` (the oracle of every compressed kernel). */
export function decodePacked(w: PackedMatrix): Float32Array {
  switch (w.kind) {
    case 'quant':
      return decodeQuantized(w);
    case 'nm':
      return decodeNM(w);
    case 'nm-quant':
      return decodeNMQuant(w);
    case 'spqr':
      return decodeSpqr(w);
    default:
      validatePacked(w);
      throw new SparqError('E_INTERNAL', 'unreachable');
  }
}

/**
 * `a · decode(w)ᵀ` with float64 accumulation: the reference of every
 * compressed matmul kernel. `a` is `[m, k]` f32 with `k = w.cols`; the result is `[m, w.rows]`.
 */
export function matmulPackedRef(a: Tensor<'f32'>, w: PackedMatrix): Tensor<'f32'> {
  if (a.rank !== 2 || a.shape[1] !== w.cols) {
    throw new SparqError('E_SHAPE_MISMATCH', `compressed matmul: a is [${a.shape}] but the ${w.kind} weight has ${w.cols} columns`, {
      details: { expected: `[m, ${w.cols}]`, found: `[${a.shape}]` },
    });
  }
  const W = decodePacked(w);
  const m = a.shape[0]!;
  const k = w.cols;
  const n = w.rows;
  const x = a.data;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * W[j * k + p]!;
      out[i * n + j] = s;
    }
  }
  return new Tensor('f32', [m, n], out);
}

/** Reference `matmulQuant`. */
export const matmulQuantRef = (inputs: KernelInputs<'matmulQuant'>): Tensor<'f32'> => matmulPackedRef(inputs.a, inputs.w);
/** Reference `matmulNM`. */
export const matmulNMRef = (inputs: KernelInputs<'matmulNM'>): Tensor<'f32'> => matmulPackedRef(inputs.a, inputs.w);
/** Reference `matmulNMQuant`. */
export const matmulNMQuantRef = (inputs: KernelInputs<'matmulNMQuant'>): Tensor<'f32'> => matmulPackedRef(inputs.a, inputs.w);
/** Reference `matmulSpqr`. */
export const matmulSpqrRef = (inputs: KernelInputs<'matmulSpqr'>): Tensor<'f32'> => matmulPackedRef(inputs.a, inputs.w);
