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
  const b = inputs.b.data;
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

/** The reference kernel table: every kernel of the contract. */
export const referenceKernels: KernelTable<null> = {
  matmulDense: { name: 'matmulDense', run: (inputs, attrs) => matmulDenseRef(inputs, attrs) },
  matmulQuant: { name: 'matmulQuant', run: (inputs) => matmulQuantRef(inputs) },
  matmulNM: { name: 'matmulNM', run: (inputs) => matmulNMRef(inputs) },
  matmulNMQuant: { name: 'matmulNMQuant', run: (inputs) => matmulNMQuantRef(inputs) },
  matmulSpqr: { name: 'matmulSpqr', run: (inputs) => matmulSpqrRef(inputs) },
};

/** A backend made of the reference kernels (single-threaded, float64 accumulation). */
export function createReferenceBackend(): Backend {
  return createTableBackend('reference', referenceKernels, null);
}
