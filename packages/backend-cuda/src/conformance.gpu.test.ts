// The shared conformance suite on the CUDA backend, plus accuracy checks of
// the tensor-core paths that the suite does not reach. Both need an NVIDIA
// GPU (compute capability ≥ 8.0) and the built addon; elsewhere they are
// skipped with the CUDA reason printed ("conformance skipped: …"), never
// silently. On a GPU: `pnpm --filter @sparq/backend-cuda build && pnpm
// --filter @sparq/backend-cuda exec vitest run src/conformance.gpu.test.ts`,
// or scripts/gpu-check.sh (also runs the benchmarks).
import { runConformance } from '@sparq/conformance';
import { createRng, decodePacked, matmulDenseRef, PACKED_MATMUL_KERNEL, Tensor } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { createCudaBackend, cudaPackedPath, cudaStatus } from './index';
import { f16ModelErrorRatio, TENSOR_CORE_DENSE_SHAPES, tensorCoreWeights } from '../test/tensor-core-checks';

const status = cudaStatus();
const skipUnless = (): true | string => (status.available ? true : `no usable CUDA device — ${status.reason}`);

// Every kernel of the contract is implemented, the optional model kernels included (empty expected-unsupported
// list: any unsupported case fails); the contract's f32 kernels run on exact CUDA-core kernels by default.
runConformance(() => createCudaBackend(), { title: 'cuda conformance', skipUnless, modelKernels: true, expectUnsupported: [] });

describe.skipIf(!status.available)('cuda tensor-core paths vs a float64 model of f16 operands', () => {
  const rng = createRng(1234);
  const tc = createCudaBackend({ tensorCores: true });
  const plain = createCudaBackend();
  afterAll(async () => {
    await tc.dispose();
    await plain.dispose();
  });
  const randn = (m: number, k: number) => new Tensor('f32', [m, k], rng.fillNormal(new Float32Array(m * k)) as Float32Array);

  const checkAgainstF16Model = (y: Float32Array, a: Float32Array, W: Float32Array, m: number, n: number, k: number): void => {
    expect(f16ModelErrorRatio(y, a, W, m, n, k)).toBeLessThanOrEqual(1);
  };

  for (const [m, k, n] of TENSOR_CORE_DENSE_SHAPES) {
    it(`dense f16 mma (tensorCores: true) m=${m} k=${k} n=${n}`, async () => {
      const a = randn(m, k);
      const b = randn(n, k);
      const y = await tc.run('matmulDense', { a, b }, { transposeB: true });
      checkAgainstF16Model(y.data, a.data, b.data, m, n, k);
      const yT = await tc.run('matmulDense', { a, b: new Tensor('f32', [k, n], transpose(b.data, n, k)) }, { transposeB: false });
      checkAgainstF16Model(yT.data, a.data, b.data, m, n, k);
    });
  }

  const weights = tensorCoreWeights(rng);
  for (const [name, w] of weights) {
    for (const m of [1, 5, 40]) {
      it(`${name} (${cudaPackedPath(w as never, true)}) m=${m}`, async () => {
        const a = randn(m, w.cols);
        const kernel = PACKED_MATMUL_KERNEL[w.kind];
        const y = await tc.run(kernel, { a, w } as never, {});
        // Decoded weights are exact in f16 for 4-bit codes with f16 scales only up to rounding of the
        // product, so the model rounds the reference-decoded weight to f16 too.
        checkAgainstF16Model(y.data, a.data, decodePacked(w), m, w.rows, w.cols);
      });
    }
  }

  it('f32 CUDA-core matmulDense equals the float64 reference to f32 accuracy', async () => {
    const a = randn(33, 1031);
    const b = randn(1031, 77);
    const y = await plain.run('matmulDense', { a, b }, { transposeB: false });
    const ref = matmulDenseRef({ a, b }, { transposeB: false });
    for (let i = 0; i < ref.data.length; i++) expect(Math.abs(y.data[i]! - ref.data[i]!)).toBeLessThan(1e-3);
  });
});

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!;
  return out;
}

if (!status.available) console.log(`cuda tensor-core accuracy tests skipped: no usable CUDA device — ${status.reason}`);
