/**
 * The architecture description of the simulated accelerator: a JSON-friendly
 * object (documented field by field in `docs/fpga.md`), its defaults, and the
 * strict parser that turns a user's JSON into a validated {@link FpgaConfig}.
 */
import { SparqError } from '@sparq/tensor';

/** Which operand stays in the PEs while the other two move. */
export type Dataflow = 'os' | 'ws' | 'is';

/** Activation datatype on the array's input edge. */
export type ActivationType = 'int8' | 'fp16';

/** The accelerator: PE array, PE datapath, on-chip buffers, DRAM, clock, energy and resource costs. */
export interface FpgaConfig {
  /** A label printed in reports. */
  readonly name: string;
  readonly array: {
    /** PE rows (the dimension partial sums flow along in ws/is). */
    readonly rows: number;
    /** PE columns. */
    readonly cols: number;
    readonly dataflow: Dataflow;
  };
  readonly pe: {
    /** Widest weight code the PE multiplier takes (4 or 8); narrower codes (2, 3, 4 bits) run on it too. */
    readonly weightBits: 4 | 8;
    readonly activation: ActivationType;
    /** Accumulator register width; integer sums wrap modulo 2^bits like the hardware. */
    readonly accumulatorBits: number;
    /** Largest N:M group length M the per-PE M-to-1 activation selector supports (1 = dense only). */
    readonly maxGroup: number;
    /** Pipeline registers the selector adds to the array's fill latency when a sparse pattern is used. */
    readonly selectorStages: number;
  };
  readonly sram: {
    /** Weight buffer, KiB (both halves of the double buffer together). */
    readonly weightKiB: number;
    /** Activation buffer, KiB. */
    readonly activationKiB: number;
    /** Output/accumulator buffer, KiB. */
    readonly outputKiB: number;
    /** Banks per buffer (one port each; at least one memory block per bank in the resource estimate). */
    readonly banks: number;
    /**
     * Fold tiles the weight/activation buffers hold at once (2 = classic double buffering); the DMA
     * prefetches up to this many folds ahead. Capped by what fits: `floor(buffer / tile)`, at least 2.
     */
    readonly prefetchFolds: number;
  };
  readonly dram: {
    /** Sustained bandwidth in GB/s (10⁹ bytes per second). */
    readonly bandwidthGBs: number;
    /** Latency of a DMA request in clock cycles; requests are pipelined, so it overlaps with earlier transfers. */
    readonly latencyCycles: number;
  };
  /** Array clock in MHz. */
  readonly clockMHz: number;
  /** Energy costs (pJ); see docs/fpga.md for the sources of the defaults. */
  readonly energy: {
    /** One INT4×INT8 (or INT8×INT8) multiply-accumulate incl. the PE registers. */
    readonly macPj: number;
    /** Reading or writing one byte of on-chip SRAM (BRAM/URAM). */
    readonly sramPjPerByte: number;
    /** Moving one byte to/from off-chip DRAM (HBM). */
    readonly dramPjPerByte: number;
    /** Static power of the fabric in watts (charged for the whole latency). */
    readonly staticW: number;
  };
  /** Per-PE FPGA resource costs; see docs/fpga.md. */
  readonly resources: {
    /** Reference device the design must fit (see {@link REFERENCE_DEVICES}). */
    readonly device: string;
    /** DSP slices per PE (0.5 = two INT4/INT8 MACs packed in one DSP48E2). */
    readonly dspPerPe: number;
    /** LUTs per PE for control and the accumulator. */
    readonly lutPerPe: number;
    /** Extra LUTs per PE per selector input (the M-to-1 mux and the wider activation register). */
    readonly lutPerSelectorInput: number;
    /** Flip-flops per PE. */
    readonly ffPerPe: number;
  };
}

/** An FPGA board's capacities, for the fit check. */
export interface DeviceCapacity {
  readonly name: string;
  readonly dsp: number;
  readonly lut: number;
  readonly ff: number;
  /** 36 Kb block RAMs. */
  readonly bram36: number;
  /** 288 Kb UltraRAMs. */
  readonly uram: number;
  /** Off-chip bandwidth in GB/s. */
  readonly dramGBs: number;
}

/**
 * Reference devices. Alveo U280 numbers are from the AMD Alveo U280 data sheet
 * (DS963): 9,024 DSP slices, 1,304K LUTs, 2,607K registers, 2,016 BRAM36,
 * 960 URAM, 460 GB/s HBM2.
 */
export const REFERENCE_DEVICES: Readonly<Record<string, DeviceCapacity>> = {
  'alveo-u280': { name: 'AMD Alveo U280', dsp: 9024, lut: 1_304_000, ff: 2_607_000, bram36: 2016, uram: 960, dramGBs: 460 },
  'alveo-u250': { name: 'AMD Alveo U250', dsp: 12_288, lut: 1_728_000, ff: 3_456_000, bram36: 2688, uram: 1280, dramGBs: 77 },
};

/** The default design: a 64×64 INT8-weight × INT8-activation weight-stationary array (INT4 codes run on it) on an Alveo U280 at 300 MHz. */
export const DEFAULT_FPGA_CONFIG: FpgaConfig = {
  name: 'sparq-sa-64x64',
  array: { rows: 64, cols: 64, dataflow: 'ws' },
  pe: { weightBits: 8, activation: 'int8', accumulatorBits: 32, maxGroup: 16, selectorStages: 1 },
  sram: { weightKiB: 2048, activationKiB: 1024, outputKiB: 1024, banks: 64, prefetchFolds: 8 },
  dram: { bandwidthGBs: 460, latencyCycles: 100 },
  clockMHz: 300,
  energy: { macPj: 1.0, sramPjPerByte: 2.5, dramPjPerByte: 31, staticW: 10 },
  resources: { device: 'alveo-u280', dspPerPe: 0.5, lutPerPe: 60, lutPerSelectorInput: 4, ffPerPe: 80 },
};

/** A partial config: any field may be left out and takes its default. */
export type FpgaConfigInput = {
  name?: string;
  array?: Partial<FpgaConfig['array']>;
  pe?: Partial<FpgaConfig['pe']>;
  sram?: Partial<FpgaConfig['sram']>;
  dram?: Partial<FpgaConfig['dram']>;
  clockMHz?: number;
  energy?: Partial<FpgaConfig['energy']>;
  resources?: Partial<FpgaConfig['resources']>;
};

const SECTIONS = ['name', 'array', 'pe', 'sram', 'dram', 'clockMHz', 'energy', 'resources'] as const;

function bad(where: string, field: string, expected: string, found: unknown): SparqError {
  return new SparqError('E_CONFIG', `${where}: ${field} must be ${expected}, found ${JSON.stringify(found)}`, {
    details: { file: where, expected, found },
    hint: 'see docs/fpga.md for the architecture config fields',
  });
}

/**
 * Merges `input` over the defaults and validates every field; unknown keys and
 * out-of-range values are `E_CONFIG` errors naming the field. `where` names the
 * source (a file path) in messages.
 */
export function resolveFpgaConfig(input: FpgaConfigInput | unknown = {}, where = 'fpga config'): FpgaConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad(where, 'the config', 'a JSON object', input);
  const obj = input as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!(SECTIONS as readonly string[]).includes(k)) throw bad(where, `key "${k}"`, `one of ${SECTIONS.join(', ')}`, k);
  }
  const d = DEFAULT_FPGA_CONFIG;
  const section = <S extends object>(key: string, def: S): S => {
    const v = obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(where, key, 'an object', v);
    for (const k of Object.keys(v)) if (!(k in def)) throw bad(where, `${key}.${k}`, `one of ${Object.keys(def).join(', ')}`, k);
    return { ...def, ...(v as Partial<S>) };
  };
  const cfg: FpgaConfig = {
    name: obj.name === undefined ? d.name : String(obj.name),
    array: section('array', d.array),
    pe: section('pe', d.pe),
    sram: section('sram', d.sram),
    dram: section('dram', d.dram),
    clockMHz: obj.clockMHz === undefined ? d.clockMHz : (obj.clockMHz as number),
    energy: section('energy', d.energy),
    resources: section('resources', d.resources),
  };
  const int = (field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(where, field, `an integer in ${min}…${max}`, v);
  };
  const pos = (field: string, v: unknown, allowZero = false) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
      throw bad(where, field, allowZero ? 'a number ≥ 0' : 'a number > 0', v);
    }
  };
  int('array.rows', cfg.array.rows, 1, 4096);
  int('array.cols', cfg.array.cols, 1, 4096);
  if (!['os', 'ws', 'is'].includes(cfg.array.dataflow)) throw bad(where, 'array.dataflow', 'os, ws or is', cfg.array.dataflow);
  if (cfg.pe.weightBits !== 4 && cfg.pe.weightBits !== 8) throw bad(where, 'pe.weightBits', '4 or 8', cfg.pe.weightBits);
  if (cfg.pe.activation !== 'int8' && cfg.pe.activation !== 'fp16') throw bad(where, 'pe.activation', 'int8 or fp16', cfg.pe.activation);
  int('pe.accumulatorBits', cfg.pe.accumulatorBits, 16, 48);
  int('pe.maxGroup', cfg.pe.maxGroup, 1, 16);
  int('pe.selectorStages', cfg.pe.selectorStages, 0, 8);
  pos('sram.weightKiB', cfg.sram.weightKiB);
  pos('sram.activationKiB', cfg.sram.activationKiB);
  pos('sram.outputKiB', cfg.sram.outputKiB);
  int('sram.banks', cfg.sram.banks, 1, 65536);
  int('sram.prefetchFolds', cfg.sram.prefetchFolds, 2, 1024);
  pos('dram.bandwidthGBs', cfg.dram.bandwidthGBs);
  int('dram.latencyCycles', cfg.dram.latencyCycles, 0, 1_000_000);
  pos('clockMHz', cfg.clockMHz);
  pos('energy.macPj', cfg.energy.macPj, true);
  pos('energy.sramPjPerByte', cfg.energy.sramPjPerByte, true);
  pos('energy.dramPjPerByte', cfg.energy.dramPjPerByte, true);
  pos('energy.staticW', cfg.energy.staticW, true);
  if (!(cfg.resources.device in REFERENCE_DEVICES)) {
    throw bad(where, 'resources.device', `one of ${Object.keys(REFERENCE_DEVICES).join(', ')}`, cfg.resources.device);
  }
  pos('resources.dspPerPe', cfg.resources.dspPerPe, true);
  pos('resources.lutPerPe', cfg.resources.lutPerPe, true);
  pos('resources.lutPerSelectorInput', cfg.resources.lutPerSelectorInput, true);
  pos('resources.ffPerPe', cfg.resources.ffPerPe, true);
  return cfg;
}

/** DRAM bytes the array can receive per clock cycle. */
export function dramBytesPerCycle(cfg: FpgaConfig): number {
  return (cfg.dram.bandwidthGBs * 1000) / cfg.clockMHz;
}

/** Cycles to move `bytes` over DRAM at the configured bandwidth (latency not included). */
export function dramTransferCycles(cfg: FpgaConfig, bytes: number): number {
  if (bytes <= 0) return 0;
  // bytes · clock / bandwidth, rounded up; computed as one division so both simulation modes round identically.
  return Math.ceil((bytes * cfg.clockMHz) / (cfg.dram.bandwidthGBs * 1000) - 1e-9);
}
