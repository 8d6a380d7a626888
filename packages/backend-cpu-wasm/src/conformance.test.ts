// The shared conformance suite, run on one and on two threads (the thread
// threshold is zeroed so even tiny cases exercise the worker path). This
// backend implements every kernel of the contract for every case: its
// expected-unsupported list is empty, so any unsupported case fails.
import { runConformance } from '@sparq/conformance';
import { createCpuWasmBackend } from './index';

runConformance(() => createCpuWasmBackend({ threads: 1 }), { title: 'cpu-wasm conformance, 1 thread', expectUnsupported: [] });
runConformance(() => createCpuWasmBackend({ threads: 2, minParallelWork: 0 }), {
  title: 'cpu-wasm conformance, 2 threads',
  expectUnsupported: [],
});
