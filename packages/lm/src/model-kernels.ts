/**
 * Routing of the optional model kernels (`rmsNorm`, `rope`, `attention`,
 * `siluMul` in `@sparq/tensor`'s contract): each helper runs the backend's
 * kernel when `backend.supports(…) === true` and otherwise computes the same
 * thing with this package's JS code, unchanged — so a backend without them
 * gives exactly the numbers it gave before (cpu-wasm implements `attention`
 * only; its norms, RoPE and activation stay here). A GPU backend
 * that has them keeps a whole block's arithmetic on the device.
 */
import { Tensor, type Backend } from '@sparq/tensor';
import type { Activation } from './config';
import { attend, type AttentionShape } from './attention';
import { applyNorm, type NormWeights } from './norm';
import { applyRope } from './rope';

// Weights and RoPE tables are wrapped once, so a backend that caches device copies by tensor identity uploads them once.
const weightTensors = new WeakMap<Float32Array, Tensor<'f32'>>();
const invFreqTensors = new WeakMap<Float64Array, Tensor<'f64'>>();

function weightTensor(w: Float32Array): Tensor<'f32'> {
  let t = weightTensors.get(w);
  if (!t) weightTensors.set(w, (t = new Tensor('f32', [w.length], w)));
  return t;
}

function invFreqTensor(f: Float64Array): Tensor<'f64'> {
  let t = invFreqTensors.get(f);
  if (!t) invFreqTensors.set(f, (t = new Tensor('f64', [f.length], f)));
  return t;
}

/** Drops the backend's device copy of a norm's weight (when a block or the model is unloaded). */
export function releaseNorm(backend: Backend, n: NormWeights): void {
  const t = weightTensors.get(n.weight);
  if (t) backend.release(t);
}

/** Normalises `rows` rows of `x` (RMSNorm through the backend when supported; LayerNorm always in JS). */
export async function normRows(backend: Backend, x: Float32Array, rows: number, n: NormWeights): Promise<Float32Array> {
  if (n.kind === 'rms') {
    const inputs = { x: new Tensor('f32', [rows, n.weight.length], x.subarray(0, rows * n.weight.length)), weight: weightTensor(n.weight) };
    const attrs = { eps: n.eps };
    if (backend.supports('rmsNorm', inputs, attrs) === true) return (await backend.run('rmsNorm', inputs, attrs)).data;
  }
  return applyNorm(x, rows, n);
}

/** Rotates `rows` rows of `nHeads` heads at `positions`; returns the rotated rows (the same array when done in JS, in place). */
export async function ropeRows(
  backend: Backend,
  x: Float32Array,
  rows: number,
  nHeads: number,
  headDim: number,
  positions: readonly number[],
  invFreq: Float64Array,
): Promise<Float32Array> {
  const inputs = {
    x: new Tensor('f32', [rows, nHeads * headDim], x),
    positions: new Tensor('i32', [rows], Int32Array.from(positions)),
    invFreq: invFreqTensor(invFreq),
  };
  const attrs = { headDim };
  if (backend.supports('rope', inputs, attrs) === true) return (await backend.run('rope', inputs, attrs)).data;
  applyRope(x, rows, nHeads, headDim, positions, invFreq);
  return x;
}

/**
 * Attends `tq` queries at positions `qPos0…` to `tk` keys/values and writes
 * `[tq, numHeads·headDim]` into `out` (as {@link attend}). `cache` is the
 * append-only hint of a `KvCache.write` (`cacheId`, `cachedRows` of the
 * contract), which lets a backend keep the cache resident.
 */
export async function attendRows(
  backend: Backend,
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  tq: number,
  tk: number,
  qPos0: number,
  s: AttentionShape,
  out: Float32Array,
  cache?: { cacheId: number; cachedRows: number },
): Promise<void> {
  const kW = s.numKvHeads * s.headDim;
  const inputs = {
    q: new Tensor('f32', [tq, s.numHeads * s.headDim], q),
    k: new Tensor('f32', [tk, kW], keys.subarray(0, tk * kW)),
    v: new Tensor('f32', [tk, kW], values.subarray(0, tk * kW)),
  };
  const attrs = {
    numHeads: s.numHeads,
    numKvHeads: s.numKvHeads,
    headDim: s.headDim,
    qPos0,
    ...(s.slidingWindow === undefined ? {} : { slidingWindow: s.slidingWindow }),
    ...(cache ? { cacheId: cache.cacheId, cachedRows: cache.cachedRows } : {}),
  };
  if (backend.supports('attention', inputs, attrs) === true) {
    out.set((await backend.run('attention', inputs, attrs)).data);
    return;
  }
  attend(q, keys, values, tq, tk, qPos0, s, out);
}

/**
 * The gated MLP's `act(gate) ⊙ up`: through the backend's `siluMul` for SiLU
 * when supported, else in JS (activation, then product). Returns the result
 * (which may be `gate`, overwritten).
 */
export async function gatedActivation(
  backend: Backend,
  gate: Float32Array,
  up: Float32Array,
  rows: number,
  act: Activation,
  activateInPlace: (x: Float32Array, act: Activation) => void,
): Promise<Float32Array> {
  if (act === 'silu') {
    const f = gate.length / rows;
    const inputs = { gate: new Tensor('f32', [rows, f], gate), up: new Tensor('f32', [rows, f], up) };
    if (backend.supports('siluMul', inputs, {}) === true) return (await backend.run('siluMul', inputs, {})).data;
  }
  activateInPlace(gate, act);
  for (let i = 0; i < gate.length; i++) gate[i] = gate[i]! * up[i]!;
  return gate;
}
