// The shared cross-backend conformance suite (dense and every compressed kernel
// against @sparq/tensor's reference kernels) on the simulated FPGA. Its functional
// model is bit-exact, so it passes the suite's tolerances trivially; every kernel
// of the contract is expected to be supported with the default 16-input selector.
import { runConformance } from '@sparq/conformance';
import { createFpgaSimBackend } from './backend';

runConformance(() => createFpgaSimBackend(), { title: 'fpga-sim conformance', expectUnsupported: [] });
