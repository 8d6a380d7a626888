/**
 * Reference kernels: plain loops with float64 accumulation. They are the oracle
 * of the conformance suite and the fallback of last resort — slow on purpose,
 * obviously correct.
 */
import { type Backend, createTableBackend, type KernelInputs, type KernelAttrs, type KernelTable } from './backend';
import { SparqError } from './errors';
import { matmulNMQuantRef, matmulNMRef, matmulQuantRef, matmulSpqrRef } from './reference-packed';
import { Tensor } from './tensor';

/** Checks the shapes of a dense matmul and returns `[m, k, n]`. */
export function matmulDenseShape(
  inputs: KernelInputs<'matmulDense'>,
  attrs: KernelAttrs<'matmulDense'>,
): [m: number, k: number, n: number] {
  const { a, b } = inputs;
  if (a.rank !== 2 || b.rank !== 2) {
    throw new SparqError('E_SHAPE_MISMATCH', `matmulDense needs 2-D operands, found a [${a.shape}] and b [${b.shape}]`);
  }
  const [m, k] = a.shape as [number, number];
  const [b0, b1] = b.shape as [number, number];
  const kb = attrs.transposeB ? b1 : b0;
  const n = attrs.transposeB ? b0 : b1;
  if (kb !== k) {
    throw new SparqError(
      'E_SHAPE_MISMATCH',
      `matmulDense: a is [${m}, ${k}] but b${attrs.transposeB ? 'ᵀ' : ''} has ${kb} rows (b is [${b.shape}])`,
      { details: { expected: k, found: kb } },
    );
  }
  return [m, k, n];
}

/** `a · b` or `a · bᵀ` with float64 accumulation (the oracle). */
export function matmulDenseRef(
  inputs: KernelInputs<'matmulDense'>,
  attrs: KernelAttrs<'matmulDense'>,
): Tensor<'f32'> {
  const [m, k, n] = matmulDenseShape(inputs, attrs);
  const a = inputs.a.data;
  // Half-precision weights widen exactly to f32 (an f32 b is used as is).
  const b = inputs.b.toF32().data;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      if (attrs.transposeB) for (let p = 0; p < k; p++) s += a[i * k + p]! * b[j * k + p]!;
      else for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      out[i * n + j] = s;
    }
  }
  return new Tensor('f32', [m, n], out);
}

function fail(message: string, expected?: unknown, found?: unknown): never {
  throw new SparqError('E_SHAPE_MISMATCH', message, expected === undefined ? undefined : { details: { expected, found } });
}

/** Checks the shapes of `rmsNorm` and returns `[m, d]`. */
export function rmsNormShape(inputs: KernelInputs<'rmsNorm'>): [m: number, d: number] {
  const { x, weight } = inputs;
  if (x.rank !== 2 || weight.rank !== 1) fail(`rmsNorm needs x [m, d] and weight [d], found x [${x.shape}] and weight [${weight.shape}]`);
  const [m, d] = x.shape as [number, number];
  if (weight.shape[0] !== d) fail(`rmsNorm: x rows have ${d} elements but weight has ${weight.shape[0]}`, d, weight.shape[0]);
  return [m, d];
}

/** `weight · x / sqrt(mean(x²) + eps)` per row, float64 accumulation (the oracle). */
export function rmsNormRef(inputs: KernelInputs<'rmsNorm'>, attrs: KernelAttrs<'rmsNorm'>): Tensor<'f32'> {
  const [m, d] = rmsNormShape(inputs);
  const x = inputs.x.data;
  const w = inputs.weight.data;
  const out = new Float32Array(m * d);
  for (let r = 0; r < m; r++) {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += x[r * d + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + attrs.eps);
    for (let i = 0; i < d; i++) out[r * d + i] = w[i]! * x[r * d + i]! * inv;
  }
  return new Tensor('f32', [m, d], out);
}

/** Checks the shapes of `rope` and returns `[m, width]`. */
export function ropeShape(inputs: KernelInputs<'rope'>, attrs: KernelAttrs<'rope'>): [m: number, width: number] {
  const { x, positions, invFreq } = inputs;
  const hd = attrs.headDim;
  if (!Number.isInteger(hd) || hd <= 0 || hd % 2 !== 0) fail(`rope: headDim must be a positive even integer, found ${hd}`);
  if (x.rank !== 2) fail(`rope needs x [m, heads·headDim], found [${x.shape}]`);
  const [m, width] = x.shape as [number, number];
  if (width % hd !== 0) fail(`rope: row width ${width} is not a multiple of headDim ${hd}`, `multiple of ${hd}`, width);
  if (positions.rank !== 1 || positions.shape[0] !== m) fail(`rope: positions must be [${m}], found [${positions.shape}]`, [m], positions.shape);
  if (invFreq.rank !== 1 || invFreq.shape[0] !== hd / 2) fail(`rope: invFreq must be [${hd / 2}], found [${invFreq.shape}]`, [hd / 2], invFreq.shape);
  return [m, width];
}

/** Rotate-half RoPE with float64 angles (the oracle). */
export function ropeRef(inputs: KernelInputs<'rope'>, attrs: KernelAttrs<'rope'>): Tensor<'f32'> {
  const [m, width] = ropeShape(inputs, attrs);
  const hd = attrs.headDim;
  const half = hd / 2;
  const x = inputs.x.data;
  const out = new Float32Array(m * width);
  for (let r = 0; r < m; r++) {
    const p = inputs.positions.data[r]!;
    for (let i = 0; i < half; i++) {
      const a = p * inputs.invFreq.data[i]!;
      const c = Math.cos(a);
      const s = Math.sin(a);
      for (let o = r * width; o < (r + 1) * width; o += hd) {
        const x1 = x[o + i]!;
        const x2 = x[o + i + half]!;
        out[o + i] = x1 * c - x2 * s;
        out[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
  return new Tensor('f32', [m, width], out);
}

/** Checks the shapes of `attention` and returns `[m, t]`. */
export function attentionShape(inputs: KernelInputs<'attention'>, attrs: KernelAttrs<'attention'>): [m: number, t: number] {
  const { q, k, v } = inputs;
  const { numHeads, numKvHeads, headDim, qPos0, slidingWindow } = attrs;
  for (const [name, val] of [['numHeads', numHeads], ['numKvHeads', numKvHeads], ['headDim', headDim]] as const) {
    if (!Number.isInteger(val) || val <= 0) fail(`attention: ${name} must be a positive integer, found ${val}`);
  }
  if (numHeads % numKvHeads !== 0) fail(`attention: numKvHeads ${numKvHeads} does not divide numHeads ${numHeads}`);
  if (slidingWindow !== undefined && (!Number.isInteger(slidingWindow) || slidingWindow <= 0)) {
    fail(`attention: slidingWindow must be a positive integer, found ${slidingWindow}`);
  }
  if (q.rank !== 2 || q.shape[1] !== numHeads * headDim) fail(`attention: q must be [m, ${numHeads * headDim}], found [${q.shape}]`);
  const m = q.shape[0]!;
  const kw = numKvHeads * headDim;
  if (k.rank !== 2 || k.shape[1] !== kw) fail(`attention: k must be [t, ${kw}], found [${k.shape}]`);
  const t = k.shape[0]!;
  if (v.rank !== 2 || v.shape[0] !== t || v.shape[1] !== kw) fail(`attention: v must be [${t}, ${kw}] like k, found [${v.shape}]`);
  if (attrs.cacheId !== undefined && (!Number.isInteger(attrs.cacheId) || attrs.cacheId < 0)) {
    fail(`attention: cacheId must be a non-negative integer, found ${attrs.cacheId}`);
  }
  if (attrs.cachedRows !== undefined && (!Number.isInteger(attrs.cachedRows) || attrs.cachedRows < 0 || attrs.cachedRows > t)) {
    fail(`attention: cachedRows must be an integer in [0, t = ${t}], found ${attrs.cachedRows}`, `0 … ${t}`, attrs.cachedRows);
  }
  if (!Number.isInteger(qPos0) || qPos0 < 0 || qPos0 + m > t) {
    fail(`attention: queries at positions ${qPos0}…${qPos0 + m - 1} need 0 ≤ qPos0 and qPos0 + m ≤ t = ${t}`, `qPos0 + m ≤ ${t}`, qPos0 + m);
  }
  return [m, t];
}

/** Causal GQA attention with float64 scores and softmax (the oracle). */
export function attentionRef(inputs: KernelInputs<'attention'>, attrs: KernelAttrs<'attention'>): Tensor<'f32'> {
  const [m] = attentionShape(inputs, attrs);
  const { numHeads, numKvHeads, headDim: hd, qPos0, slidingWindow } = attrs;
  const q = inputs.q.data;
  const k = inputs.k.data;
  const v = inputs.v.data;
  const group = numHeads / numKvHeads;
  const qW = numHeads * hd;
  const kW = numKvHeads * hd;
  const scale = 1 / Math.sqrt(hd);
  const out = new Float32Array(m * qW);
  for (let r = 0; r < m; r++) {
    const pos = qPos0 + r;
    const first = slidingWindow === undefined ? 0 : Math.max(0, pos - slidingWindow + 1);
    for (let h = 0; h < numHeads; h++) {
      const kvh = Math.floor(h / group);
      const scores: number[] = [];
      for (let j = first; j <= pos; j++) {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[r * qW + h * hd + i]! * k[j * kW + kvh * hd + i]!;
        scores.push(dot * scale);
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const sum = e.reduce((x, y) => x + y, 0);
      for (let i = 0; i < hd; i++) {
        let acc = 0;
        for (let j = first; j <= pos; j++) acc += (e[j - first]! / sum) * v[j * kW + kvh * hd + i]!;
        out[r * qW + h * hd + i] = acc;
      }
    }
  }
  return new Tensor('f32', [m, qW], out);
}

/** Checks the shapes of `siluMul` and returns `[m, f]`. */
export function siluMulShape(inputs: KernelInputs<'siluMul'>): [m: number, f: number] {
  const { gate, up } = inputs;
  if (gate.rank !== 2 || up.rank !== 2 || gate.shape[0] !== up.shape[0] || gate.shape[1] !== up.shape[1]) {
    fail(`siluMul needs gate and up of the same [m, f] shape, found [${gate.shape}] and [${up.shape}]`, gate.shape, up.shape);
  }
  return [gate.shape[0]!, gate.shape[1]!];
}

/** `silu(gate) · up` in float64 (the oracle). */
export function siluMulRef(inputs: KernelInputs<'siluMul'>): Tensor<'f32'> {
  const [m, f] = siluMulShape(inputs);
  const g = inputs.gate.data;
  const u = inputs.up.data;
  const out = new Float32Array(m * f);
  for (let i = 0; i < out.length; i++) out[i] = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!;
  return new Tensor('f32', [m, f], out);
}

/** The reference kernel table: every kernel of the contract. */
export const referenceKernels: KernelTable<null> = {
  matmulDense: { name: 'matmulDense', run: (inputs, attrs) => matmulDenseRef(inputs, attrs) },
  matmulQuant: { name: 'matmulQuant', run: (inputs) => matmulQuantRef(inputs) },
  matmulNM: { name: 'matmulNM', run: (inputs) => matmulNMRef(inputs) },
  matmulNMQuant: { name: 'matmulNMQuant', run: (inputs) => matmulNMQuantRef(inputs) },
  matmulSpqr: { name: 'matmulSpqr', run: (inputs) => matmulSpqrRef(inputs) },
  rmsNorm: { name: 'rmsNorm', run: (inputs, attrs) => rmsNormRef(inputs, attrs) },
  rope: { name: 'rope', run: (inputs, attrs) => ropeRef(inputs, attrs) },
  attention: { name: 'attention', run: (inputs, attrs) => attentionRef(inputs, attrs) },
  siluMul: { name: 'siluMul', run: (inputs) => siluMulRef(inputs) },
};

/** A backend made of the reference kernels (single-threaded, float64 accumulation). */
export function createReferenceBackend(): Backend {
  return createTableBackend('reference', referenceKernels, null);
}
