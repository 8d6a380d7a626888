// The shared conformance suite, run on one and on two threads (the thread
// threshold is zeroed so even tiny cases exercise the worker path). This
// backend implements every matmul kernel of the contract for every case, so
// any unsupported matmul case fails. Of the optional model kernels it
// implements `attention` (the one that costs real time in JS); rmsNorm, rope
// and siluMul stay in @sparq/lm's JS and are the expected-unsupported list.
import { runConformance } from '@sparq/conformance';
import { createCpuWasmBackend } from './index';

const JS_MODEL_KERNELS = ['rmsNorm ', 'rope ', 'siluMul '];

runConformance(() => createCpuWasmBackend({ threads: 1 }), { title: 'cpu-wasm conformance, 1 thread', modelKernels: true, expectUnsupported: JS_MODEL_KERNELS });
// The tests run with relaxed SIMD enabled (vitest.config.ts), so 'auto' picks the relaxed module; the baseline
// module — what Node 20 users get without the flag — runs the whole suite too.
runConformance(() => createCpuWasmBackend({ threads: 1, simd: 'baseline' }), { title: 'cpu-wasm conformance, baseline SIMD, 1 thread', modelKernels: true, expectUnsupported: JS_MODEL_KERNELS });
runConformance(() => createCpuWasmBackend({ threads: 2, minParallelWork: 0 }), {
  title: 'cpu-wasm conformance, 2 threads',
  modelKernels: true,
  expectUnsupported: JS_MODEL_KERNELS,
});
