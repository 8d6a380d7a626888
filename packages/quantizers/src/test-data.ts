/**
 * Synthetic layers for the tests (not exported from the package): heavy-tailed
 * weights and correlated calibration inputs, as in the reference fixtures.
 */
import { createRng } from '@sparq/tensor';

/** A test layer: W (`rows × cols`), X (`n × cols`), H = 2·XᵀX/n. */
export interface TestLayer {
  rows: number;
  cols: number;
  n: number;
  W: Float64Array;
  X: Float64Array;
  H: Float64Array;
}

/**
 * `W = 0.02·t₃`, `X = Z·A` with `A` standard normal / √cols (correlated channels), two ×20 outlier channels and,
 * if `deadChannel` ≥ 0, that input channel set to 0.
 */
export function makeLayer(rows: number, cols: number, n: number, seed: number, deadChannel = -1): TestLayer {
  const rng = createRng(seed);
  const W = new Float64Array(rows * cols);
  for (let i = 0; i < W.length; i++) {
    const chi = rng.normal() ** 2 + rng.normal() ** 2 + rng.normal() ** 2;
    W[i] = (0.02 * rng.normal()) / Math.sqrt(chi / 3);
  }
  const A = new Float64Array(cols * cols);
  for (let i = 0; i < A.length; i++) A[i] = rng.normal() / Math.sqrt(cols);
  const Z = new Float64Array(n * cols);
  for (let i = 0; i < Z.length; i++) Z[i] = rng.normal();
  const X = new Float64Array(n * cols);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < cols; i++) {
      const z = Z[k * cols + i]!;
      for (let j = 0; j < cols; j++) X[k * cols + j] += z * A[i * cols + j]!;
    }
  }
  const outl = [1 % cols, (cols >> 1) + 1];
  for (let k = 0; k < n; k++) {
    for (const j of outl) X[k * cols + j] *= 20;
    if (deadChannel >= 0) X[k * cols + deadChannel] = 0;
  }
  return { rows, cols, n, W, X, H: hessianOf(X, n, cols) };
}

/** `2·XᵀX / n`. */
export function hessianOf(X: Float64Array, n: number, cols: number): Float64Array {
  const H = new Float64Array(cols * cols);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < cols; i++) {
      const xi = X[k * cols + i]!;
      for (let j = 0; j < cols; j++) H[i * cols + j] += xi * X[k * cols + j]!;
    }
  }
  for (let i = 0; i < H.length; i++) H[i] = (2 * H[i]!) / n;
  return H;
}

/** `‖(W − Ŵ) Xᵀ‖² / ‖W Xᵀ‖²` with plain loops. */
export function relReconError(W: Float64Array, What: Float64Array, X: Float64Array, rows: number, cols: number, n: number): number {
  let num = 0;
  let den = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      let e = 0;
      let y = 0;
      for (let j = 0; j < cols; j++) {
        e += (W[r * cols + j]! - What[r * cols + j]!) * X[k * cols + j]!;
        y += W[r * cols + j]! * X[k * cols + j]!;
      }
      num += e * e;
      den += y * y;
    }
  }
  return num / den;
}

/** Expects `fn` to throw a SparqError with `code`. */
export function sparqCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}
