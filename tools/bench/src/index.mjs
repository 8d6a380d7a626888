// @sparq/bench — the benchmark harness (private tooling, plain ESM, no build):
// timing statistics, same-run machine probes, text tables and JSON output.
export { measure, summarize } from './measure.mjs';
export { probeMemoryBandwidth, probeSimdPeak, BANDWIDTH_PROBE_BYTES } from './probes.mjs';
export { table, writeJson } from './report.mjs';
