// The shared conformance suite, run on one and on two threads (the thread
// threshold is zeroed so even tiny cases exercise the worker path). This
// backend implements every kernel of the contract for every case: its
// expected-unsupported list is empty, so any unsupported case fails.
import { runConformance } from '@sparq/conformance';
import { createCpuWasmBackend } from './index';

runConformance(() => createCpuWasmBackend({ threads: 1 }), { title: 'cpu-wasm conformance, 1 thread', expectUnsupported: [] });
// The tests run with relaxed SIMD enabled (vitest.config.ts), so 'auto' picks the relaxed module; the baseline
// module — what Node 20 users get without the flag — runs the whole suite too.
runConformance(() => createCpuWasmBackend({ threads: 1, simd: 'baseline' }), { title: 'cpu-wasm conformance, baseline SIMD, 1 thread', expectUnsupported: [] });
runConformance(() => createCpuWasmBackend({ threads: 2, minParallelWork: 0 }), {
  title: 'cpu-wasm conformance, 2 threads',
  expectUnsupported: [],
});
