/**
 * FPGA resource estimate of a design (DSP, LUT, FF, BRAM36, URAM) from the
 * per-PE costs in the config, and the fit check against the reference device.
 * The cost model is documented (with its assumptions) in docs/fpga.md.
 */
import { type FpgaConfig, REFERENCE_DEVICES } from './config';

/** Bytes of one BRAM36 (36 Kb) and one URAM (288 Kb). */
const BRAM36_BYTES = 4608;
const URAM_BYTES = 36_864;
/** Buffers at least this large are mapped to URAM (deep, narrow), smaller ones to BRAM. */
const URAM_THRESHOLD_KIB = 256;

/** Estimated resources and whether they fit the device. */
export interface ResourceReport {
  readonly device: string;
  readonly pes: number;
  readonly dsp: number;
  readonly lut: number;
  readonly ff: number;
  readonly bram36: number;
  readonly uram: number;
  /** Fraction of the device's capacity per resource. */
  readonly utilization: { readonly dsp: number; readonly lut: number; readonly ff: number; readonly bram36: number; readonly uram: number };
  readonly fits: boolean;
  /** One line per exceeded capacity (empty when it fits). */
  readonly violations: readonly string[];
}

function bufferBlocks(kib: number, banks: number): { bram36: number; uram: number } {
  const bytes = kib * 1024;
  // Each bank is a separate memory with its own port: at least one block per bank.
  if (kib >= URAM_THRESHOLD_KIB) return { bram36: 0, uram: Math.max(banks, Math.ceil(bytes / URAM_BYTES)) };
  return { bram36: Math.max(banks, Math.ceil(bytes / BRAM36_BYTES)), uram: 0 };
}

/**
 * Resource estimate: DSPs from `dspPerPe`, LUTs from `lutPerPe` plus the
 * M-to-1 selector (`lutPerSelectorInput · maxGroup` when `maxGroup > 1`),
 * flip-flops from `ffPerPe` plus the group-vector activation register
 * (`(maxGroup − 1) · activation bits`), buffers in BRAM36/URAM.
 */
export function estimateResources(cfg: FpgaConfig): ResourceReport {
  const dev = REFERENCE_DEVICES[cfg.resources.device]!;
  const pes = cfg.array.rows * cfg.array.cols;
  const sparse = cfg.pe.maxGroup > 1;
  const actBits = cfg.pe.activation === 'int8' ? 8 : 16;
  const dsp = Math.ceil(pes * cfg.resources.dspPerPe);
  const lut = Math.ceil(pes * (cfg.resources.lutPerPe + (sparse ? cfg.resources.lutPerSelectorInput * cfg.pe.maxGroup : 0)));
  const ff = Math.ceil(pes * (cfg.resources.ffPerPe + (sparse ? (cfg.pe.maxGroup - 1) * actBits : 0)));
  let bram36 = 0;
  let uram = 0;
  for (const kib of [cfg.sram.weightKiB, cfg.sram.activationKiB, cfg.sram.outputKiB]) {
    const b = bufferBlocks(kib, cfg.sram.banks);
    bram36 += b.bram36;
    uram += b.uram;
  }
  const violations: string[] = [];
  const check = (what: string, need: number, have: number) => {
    if (need > have) violations.push(`${what}: needs ${need}, ${dev.name} has ${have}`);
  };
  check('DSP', dsp, dev.dsp);
  check('LUT', lut, dev.lut);
  check('FF', ff, dev.ff);
  check('BRAM36', bram36, dev.bram36);
  check('URAM', uram, dev.uram);
  check('DRAM GB/s', cfg.dram.bandwidthGBs, dev.dramGBs);
  return {
    device: dev.name,
    pes,
    dsp,
    lut,
    ff,
    bram36,
    uram,
    utilization: { dsp: dsp / dev.dsp, lut: lut / dev.lut, ff: ff / dev.ff, bram36: bram36 / dev.bram36, uram: uram / dev.uram },
    fits: violations.length === 0,
    violations,
  };
}
