/**
 * The shared conformance suite without vitest, for GPU machines that have
 * Node but no node_modules (scripts/gpu-check.sh runs the bundled copy made
 * by scripts/make-gpu-bundle.mjs). Same cases, metrics and tolerances as
 * `runConformance` in @sparq/conformance, with an empty expected-unsupported
 * list; the optional model-kernel cases are included, and so are the
 * tensor-core accuracy checks of src/conformance.gpu.test.ts. Exit code 1 on any failure. Writes conformance.json to argv[2].
 */
import {
  compareF32,
  comparePacked,
  F32_MAX_ABS_PER_SQRT_K,
  F32_MAX_NMSE,
  generateMatmulDenseCases,
  generateModelCases,
  generatePackedCases,
  MODEL_MAX_NMSE,
  PACKED_TOLERANCE,
} from '@sparq/conformance';
import {
  createRng,
  decodePacked,
  matmulDenseRef,
  matmulPackedRef,
  PACKED_MATMUL_KERNEL,
  referenceKernels,
  Tensor,
  type KernelAttrs,
  type KernelInputs,
} from '@sparq/tensor';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCudaBackend, cudaStatus } from '../src/index';
import { f16ModelErrorRatio, TENSOR_CORE_DENSE_SHAPES, tensorCoreWeights } from '../test/tensor-core-checks';

const outDir = process.argv[2] ?? '.';
mkdirSync(outDir, { recursive: true });
const status = cudaStatus();
if (!status.available) {
  console.log(`conformance not run: ${status.reason}`);
  writeFileSync(join(outDir, 'conformance.json'), JSON.stringify({ available: false, reason: status.reason }, null, 2));
  process.exit(2);
}

const EXPECT_UNSUPPORTED: string[] = [];
const backend = createCudaBackend();
await backend.init();
const results: { name: string; ok: boolean; detail: string }[] = [];
const record = (name: string, ok: boolean, detail: string) => {
  results.push({ name, ok, detail });
  if (!ok) console.log(`FAIL ${name}: ${detail}`);
};

for (const c of generateMatmulDenseCases()) {
  const ok = backend.supports(c.kernel, c.inputs, c.attrs);
  if (ok !== true) {
    record(c.name, false, `unsupported: ${ok}`);
    continue;
  }
  try {
    const out = await backend.run(c.kernel, c.inputs, c.attrs);
    const { nmse, maxAbs } = compareF32(out.data, matmulDenseRef(c.inputs, c.attrs).data);
    const good = nmse <= F32_MAX_NMSE && maxAbs <= F32_MAX_ABS_PER_SQRT_K * Math.sqrt(Math.max(c.k, 1)) && out.shape[0] === c.m && out.shape[1] === c.n;
    record(c.name, good, `nmse ${nmse.toExponential(2)} maxAbs ${maxAbs.toExponential(2)}`);
  } catch (e) {
    record(c.name, false, String(e));
  }
}
for (const c of generatePackedCases()) {
  const inputs = { a: c.a, w: c.w } as never;
  const ok = backend.supports(c.kernel, inputs, {});
  const expectedUnsupported = EXPECT_UNSUPPORTED.some((p) => c.name.startsWith(p));
  if (ok !== true || expectedUnsupported) {
    record(c.name, ok !== true && expectedUnsupported, ok === true ? 'supported but listed as expected-unsupported' : `unsupported: ${ok}`);
    continue;
  }
  try {
    const out = await backend.run(c.kernel, inputs, {});
    const tol = PACKED_TOLERANCE[c.kernel];
    const { nmse, maxRel } = comparePacked(out.data, matmulPackedRef(c.a, c.w).data, c.a.data, decodePacked(c.w), c.m, c.n, c.k);
    record(c.name, nmse <= tol.nmse && maxRel <= tol.rel && out.shape[0] === c.m && out.shape[1] === c.n, `nmse ${nmse.toExponential(2)} maxRel ${maxRel.toExponential(2)}`);
  } catch (e) {
    record(c.name, false, String(e));
  }
}
for (const c of generateModelCases()) {
  const { kernel, inputs, attrs } = c as { kernel: 'rmsNorm'; inputs: KernelInputs<'rmsNorm'>; attrs: KernelAttrs<'rmsNorm'> };
  const ok = backend.supports(kernel, inputs, attrs);
  if (ok !== true) {
    record(c.name, false, `unsupported: ${ok}`);
    continue;
  }
  try {
    const out = await backend.run(kernel, inputs, attrs);
    const ref = await referenceKernels[kernel]!.run(inputs, attrs, null);
    const { nmse } = compareF32(out.data, ref.data);
    record(c.name, nmse <= MODEL_MAX_NMSE && out.shape.join() === ref.shape.join(), `nmse ${nmse.toExponential(2)}`);
  } catch (e) {
    record(c.name, false, String(e));
  }
}
await backend.dispose();

// The tensor-core paths the suite does not reach (as in src/conformance.gpu.test.ts): each output against the
// float64 product of the f16-rounded operands, within the accumulation bound k·2⁻²¹·Σ|terms|
// (4× the f32 rounding bound: tensor cores may truncate when aligning addends).
const tc = createCudaBackend({ tensorCores: true });
const rng = createRng(1234);
const randn = (m: number, k: number) => new Tensor('f32', [m, k], rng.fillNormal(new Float32Array(m * k)) as Float32Array);
for (const [m, k, n] of TENSOR_CORE_DENSE_SHAPES) {
  const a = randn(m, k);
  const b = randn(n, k);
  try {
    const y = await tc.run('matmulDense', { a, b }, { transposeB: true });
    const worst = f16ModelErrorRatio(y.data, a.data, b.data, m, n, k);
    record(`tensor cores: dense f16 m=${m} k=${k} n=${n}`, worst <= 1, `worst error / bound ${worst.toExponential(2)}`);
  } catch (e) {
    record(`tensor cores: dense f16 m=${m} k=${k} n=${n}`, false, String(e));
  }
}
const weights = tensorCoreWeights(rng);
for (const [name, w] of weights) {
  for (const m of [1, 5, 40]) {
    const a = randn(m, w.cols);
    const kernel = PACKED_MATMUL_KERNEL[w.kind];
    try {
      const y = await tc.run(kernel, { a, w } as never, {});
      const worst = f16ModelErrorRatio(y.data, a.data, decodePacked(w), m, w.rows, w.cols);
      record(`tensor cores: ${name} m=${m}`, worst <= 1, `worst error / bound ${worst.toExponential(2)}`);
    } catch (e) {
      record(`tensor cores: ${name} m=${m}`, false, String(e));
    }
  }
}
await tc.dispose();
const failed = results.filter((r) => !r.ok);
console.log(`cuda conformance: ${results.length - failed.length} passed, ${failed.length} failed of ${results.length} cases`);
writeFileSync(join(outDir, 'conformance.json'), JSON.stringify({ device: status.devices, passed: results.length - failed.length, failed, results }, null, 2));
process.exit(failed.length ? 1 : 0);
