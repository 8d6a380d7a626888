/**
 * Conformance cases of the optional model kernels (`rmsNorm`, `rope`,
 * `attention`, `siluMul`), generated from a seeded RNG: LLaMA-like and odd
 * widths, GEMV (one new token) and prefill rows, grouped-query heads, sliding
 * windows, long positions, and zero-sized rows.
 */
import { createRng, Tensor, type KernelAttrs, type KernelInputs } from '@sparq/tensor';

type Rng = ReturnType<typeof createRng>;

/** One case of one optional model kernel. */
export type ModelKernelCase = {
  [K in 'rmsNorm' | 'rope' | 'attention' | 'siluMul']: {
    readonly kernel: K;
    /** e.g. `attention m=1 t=9 h=4/2 hd=8` — stable for a seed. */
    readonly name: string;
    readonly inputs: KernelInputs<K>;
    readonly attrs: KernelAttrs<K>;
  };
}['rmsNorm' | 'rope' | 'attention' | 'siluMul'];

const normal = (rng: Rng, shape: [number, number], sd = 1): Tensor<'f32'> => {
  const data = rng.fillNormal(new Float32Array(shape[0] * shape[1])) as Float32Array;
  if (sd !== 1) for (let i = 0; i < data.length; i++) data[i]! *= sd;
  return new Tensor('f32', shape, data);
};

/** `θ^(−2i/headDim)` in float64 (the plain LLaMA schedule). */
function invFreq(headDim: number, theta: number): Tensor<'f64'> {
  return new Tensor('f64', [headDim / 2], Float64Array.from({ length: headDim / 2 }, (_, i) => 1 / theta ** ((2 * i) / headDim)));
}

/** The model-kernel case list (seed default 0x5eef). */
export function generateModelCases(seed = 0x5eef): ModelKernelCase[] {
  const rng = createRng(seed);
  const cases: ModelKernelCase[] = [];
  for (const [m, d] of [[1, 64], [3, 48], [5, 257], [1, 1], [2, 1024], [0, 16]] as const) {
    const weight = new Tensor('f32', [d], Float32Array.from({ length: d }, () => 0.5 + rng.float()));
    cases.push({ kernel: 'rmsNorm', name: `rmsNorm m=${m} d=${d}`, inputs: { x: normal(rng, [m, d], 3), weight }, attrs: { eps: 1e-5 } });
  }
  for (const [m, heads, hd, pos0, theta] of [
    [1, 4, 8, 0, 10000],
    [1, 2, 64, 37, 10000],
    [5, 3, 16, 0, 10000],
    [3, 2, 32, 4093, 500000],
    [2, 1, 2, 11, 10000],
    [0, 2, 8, 0, 10000],
  ] as const) {
    const positions = new Tensor('i32', [m], Int32Array.from({ length: m }, (_, i) => pos0 + i * (i % 2 ? 3 : 1)));
    cases.push({
      kernel: 'rope',
      name: `rope m=${m} heads=${heads} hd=${hd} pos0=${pos0} theta=${theta}`,
      inputs: { x: normal(rng, [m, heads * hd]), positions, invFreq: invFreq(hd, theta) },
      attrs: { headDim: hd },
    });
  }
  for (const [m, t, nh, nkv, hd, win] of [
    [1, 1, 1, 1, 4, undefined],
    [1, 9, 4, 2, 8, undefined],
    [4, 4, 2, 2, 16, undefined],
    [3, 10, 6, 2, 8, undefined],
    [1, 33, 4, 1, 64, undefined],
    [5, 12, 2, 1, 8, 4],
    [2, 70, 4, 4, 32, undefined],
    [0, 3, 2, 1, 4, undefined],
  ] as const) {
    const w = win as number | undefined;
    cases.push({
      kernel: 'attention',
      name: `attention m=${m} t=${t} h=${nh}/${nkv} hd=${hd}${w ? ` window=${w}` : ''}`,
      inputs: { q: normal(rng, [m, nh * hd]), k: normal(rng, [t, nkv * hd]), v: normal(rng, [t, nkv * hd]) },
      attrs: { numHeads: nh, numKvHeads: nkv, headDim: hd, qPos0: t - m, ...(w ? { slidingWindow: w } : {}) },
    });
  }
  for (const [m, f] of [[1, 1], [1, 172], [3, 257], [0, 8]] as const) {
    cases.push({ kernel: 'siluMul', name: `siluMul m=${m} f=${f}`, inputs: { gate: normal(rng, [m, f], 4), up: normal(rng, [m, f]) }, attrs: {} });
  }
  return cases;
}
