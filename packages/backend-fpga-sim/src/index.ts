/**
 * @sparq/backend-fpga-sim — a systolic-array FPGA accelerator simulator: an
 * architecture config, a cycle-level simulator that computes the integer
 * result, an analytical timing model that agrees with it exactly, SCALE-Sim v2
 * compatible timing, energy and resource estimates, model-level runs and a
 * `Backend` implementation.
 * @packageDocumentation
 */
export { DEFAULT_FPGA_CONFIG, REFERENCE_DEVICES, resolveFpgaConfig, dramBytesPerCycle, dramTransferCycles } from './config';
export type { ActivationType, Dataflow, DeviceCapacity, FpgaConfig, FpgaConfigInput } from './config';
export { DENSE, parsePattern, patternName, indexBits, planFolds, foldTraffic, emptyTraffic } from './mapping';
export type { FoldPlan, FoldTraffic, GemmShape, GemmWorkload, SparsityPattern } from './mapping';
export { scaleSimGemm } from './scalesim';
export type { ScaleSimReport } from './scalesim';
export { analyzeGemm, analyzePlan, selectorStagesOf } from './analytical';
export { simulateGemmCycles } from './cycle-sim';
export type { CycleSimOptions, CycleSimResult } from './cycle-sim';
export { wrapSigned, validateIntOperands } from './int-ops';
export type { IntGemmOperands } from './int-ops';
export { energyOf, finishReport } from './report';
export type { EnergyReport, GemmReport, RawCounts } from './report';
export { estimateResources } from './resources';
export type { ResourceReport } from './resources';
export { readFpgaConfigFile } from './config-file';
export { uniformPlan, choiceFor, parsePlan, readPlanFile } from './plan';
export type { CompressionPlan, LayerChoice, PlanRule } from './plan';
export { MODEL_SHAPES, modelShape, modelGemms, decodePhase, prefillPhase, simulateModel, comparePlans } from './model';
export type { ModelGemm, ModelPhase, ModelRunReport, ModelShape, PlanComparison } from './model';
export { createFpgaSimBackend, packedPattern } from './backend';
export type { BackendTotals, FpgaSimBackend, KernelRun } from './backend';
