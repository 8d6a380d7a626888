// The shared conformance suite, run on one and on two threads (the thread
// threshold is zeroed so even tiny cases exercise the worker path).
import { runConformance } from '@sparq/conformance';
import { createCpuWasmBackend } from './index';

runConformance(() => createCpuWasmBackend({ threads: 1 }), { title: 'cpu-wasm conformance, 1 thread' });
runConformance(() => createCpuWasmBackend({ threads: 2, minParallelWork: 0 }), {
  title: 'cpu-wasm conformance, 2 threads',
});
