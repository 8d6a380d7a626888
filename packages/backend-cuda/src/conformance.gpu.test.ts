// The shared conformance suite on the CUDA backend, plus accuracy checks of
// the tensor-core paths that the suite does not reach. Both need an NVIDIA
// GPU (compute capability ≥ 8.0) and the built addon; elsewhere they are
// skipped with the CUDA reason printed ("conformance skipped: …"), never
// silently. On a GPU: `pnpm --filter @sparq/backend-cuda build && pnpm
// --filter @sparq/backend-cuda exec vitest run src/conformance.gpu.test.ts`,
// or scripts/gpu-check.sh (also runs the benchmarks).
import { runConformance } from '@sparq/conformance';
import { randomNM, randomNMQuant, randomQuantized, randomSpqr } from '@sparq/conformance';
import { createRng, decodePacked, f16ToF32, f32ToF16, matmulDenseRef, Tensor, type PackedMatrix } from '@sparq/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { createCudaBackend, cudaPackedPath, cudaStatus } from './index';

const status = cudaStatus();
const skipUnless = (): true | string => (status.available ? true : `no usable CUDA device — ${status.reason}`);

// Every kernel of the contract is implemented, the optional model kernels included (empty expected-unsupported
// list: any unsupported case fails); the contract's f32 kernels run on exact CUDA-core kernels by default.
runConformance(() => createCudaBackend(), { title: 'cuda conformance', skipUnless, modelKernels: true, expectUnsupported: [] });

const f16 = (x: number): number => f16ToF32(f32ToF16(x));

/**
 * |y − ŷ| bound of an f16 tensor-core product against the float64 product of
 * the f16-rounded operands: accumulation error only, ≤ k·2⁻²¹·Σ|terms| (4× the
 * f32 rounding bound, as tensor cores may truncate when aligning addends; an
 * indexing bug is O(Σ|terms|), and even computing in exact f32 instead of f16
 * exceeds it for k ≲ 1000).
 */
function checkAgainstF16Model(y: Float32Array, a: Float32Array, W: Float32Array, m: number, n: number, k: number, roundW: boolean): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let mag = 0;
      for (let p = 0; p < k; p++) {
        const t = f16(a[i * k + p]!) * (roundW ? f16(W[j * k + p]!) : W[j * k + p]!);
        s += t;
        mag += Math.abs(t);
      }
      const err = Math.abs(y[i * n + j]! - s);
      if (err > k * 2 ** -21 * mag + 1e-30) expect.fail(`out (${i}, ${j}) = ${y[i * n + j]}, f16 model ${s} (|err| ${err}, bound ${k * 2 ** -21 * mag})`);
    }
  }
}

describe.skipIf(!status.available)('cuda tensor-core paths vs a float64 model of f16 operands', () => {
  const rng = createRng(1234);
  const tc = createCudaBackend({ tensorCores: true });
  const plain = createCudaBackend();
  afterAll(async () => {
    await tc.dispose();
    await plain.dispose();
  });
  const randn = (m: number, k: number) => new Tensor('f32', [m, k], rng.fillNormal(new Float32Array(m * k)) as Float32Array);

  for (const [m, k, n] of [
    [1, 4096, 256],
    [7, 1000, 300],
    [64, 512, 129],
    [257, 256, 64],
  ] as const) {
    it(`dense f16 mma (tensorCores: true) m=${m} k=${k} n=${n}`, async () => {
      const a = randn(m, k);
      const b = randn(n, k);
      const y = await tc.run('matmulDense', { a, b }, { transposeB: true });
      checkAgainstF16Model(y.data, a.data, b.data, m, n, k, true);
      const yT = await tc.run('matmulDense', { a, b: new Tensor('f32', [k, n], transpose(b.data, n, k)) }, { transposeB: false });
      checkAgainstF16Model(yT.data, a.data, b.data, m, n, k, true);
    });
  }

  const weights: [string, PackedMatrix][] = [
    ['int4 g128 asym', randomQuantized(rng, 300, 4096, 4, 128, false)],
    ['int4 g32 sym', randomQuantized(rng, 64, 512, 4, 32, true)],
    ['2:4+int4 g128', randomNMQuant(rng, 300, 4096, 2, 4, 4, 128, false)],
    ['2:4+int4 g64', randomNMQuant(rng, 33, 320, 2, 4, 4, 64, true)],
    ['decoded q3', randomQuantized(rng, 50, 384, 3, 64, false)],
    ['decoded 4:8 q8', randomNMQuant(rng, 40, 256, 4, 8, 8, 32, true)],
    ['2:4 f16 (tensorCores)', randomNM(rng, 100, 1024, 2, 4)],
    ['SpQR q3 (host decode)', randomSpqr(rng, 70, 256, 3, 16, 16)],
  ];
  for (const [name, w] of weights) {
    for (const m of [1, 5, 40]) {
      it(`${name} (${cudaPackedPath(w as never, true)}) m=${m}`, async () => {
        const a = randn(m, w.cols);
        const kernel = ({ quant: 'matmulQuant', nm: 'matmulNM', 'nm-quant': 'matmulNMQuant', spqr: 'matmulSpqr' } as const)[w.kind];
        const y = await tc.run(kernel, { a, w } as never, {});
        // Decoded weights are exact in f16 for 4-bit codes with f16 scales only up to rounding of the
        // product, so the model rounds the reference-decoded weight to f16 too.
        checkAgainstF16Model(y.data, a.data, decodePacked(w), m, w.rows, w.cols, true);
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
