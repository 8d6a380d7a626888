/**
 * The shared conformance suite against the WebGPU backend running in headless
 * Chromium (SwiftShader's WebGPU adapter here; a real GPU where there is one):
 * every dense, compressed (every bits × sym × group × N:M pattern the suite
 * generates) and model-kernel case, with the same tolerances as cpu-wasm.
 */
import { runConformance } from '@sparq/conformance';
import { createPageProxyBackend } from '../test/page-backend';

runConformance(() => createPageProxyBackend(), {
  title: 'webgpu conformance (headless Chromium)',
  expectUnsupported: [],
  modelKernels: true,
});

// Again with weights split into row chunks: a 2 KiB + 12 B slack binding limit
// holds the longest single row of the suite (1024 × 2:4 f32 values) but
// splits every weight larger than that, so the chunked path (one dispatch per
// chunk, output column offsets, rebased SpQR outlier rows) meets every case.
runConformance(() => createPageProxyBackend({ maxBindingBytes: 2048 + 12 }), {
  title: 'webgpu conformance, weights split at a 2 KiB binding limit',
  expectUnsupported: [],
  packed: true,
});
