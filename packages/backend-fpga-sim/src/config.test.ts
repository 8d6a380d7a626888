import { describe, expect, it } from 'vitest';
import { DEFAULT_FPGA_CONFIG, dramTransferCycles, resolveFpgaConfig } from './config';

describe('architecture config', () => {
  it('merges a partial JSON over the defaults', () => {
    const c = resolveFpgaConfig({ array: { rows: 8 }, dram: { bandwidthGBs: 19.2 } });
    expect(c.array).toEqual({ rows: 8, cols: DEFAULT_FPGA_CONFIG.array.cols, dataflow: 'ws' });
    expect(c.dram.latencyCycles).toBe(DEFAULT_FPGA_CONFIG.dram.latencyCycles);
    expect(resolveFpgaConfig(c)).toEqual(c); // a resolved config is a valid input
  });

  it('rejects unknown keys and out-of-range values, naming the field and the file', () => {
    expect(() => resolveFpgaConfig({ arrray: {} }, 'a.json')).toThrow(/a\.json: key "arrray" must be one of/);
    expect(() => resolveFpgaConfig({ array: { dataflow: 'rs' } }, 'a.json')).toThrow(/array\.dataflow must be os, ws or is, found "rs"/);
    expect(() => resolveFpgaConfig({ pe: { weightBits: 6 } })).toThrow(/pe\.weightBits must be 4 or 8/);
    expect(() => resolveFpgaConfig({ pe: { maxGroup: 32 } })).toThrow(/pe\.maxGroup must be an integer in 1…16/);
    expect(() => resolveFpgaConfig({ resources: { device: 'vu9p' } })).toThrow(/resources\.device must be one of alveo-u280/);
    expect(() => resolveFpgaConfig({ sram: { wieghtKiB: 1 } })).toThrow(/sram\.wieghtKiB/);
  });

  it('DRAM transfer cycles: ceil(bytes · clock / bandwidth)', () => {
    const c = resolveFpgaConfig({ dram: { bandwidthGBs: 4.8 }, clockMHz: 300 }); // 16 B/cycle
    expect([dramTransferCycles(c, 0), dramTransferCycles(c, 1), dramTransferCycles(c, 16), dramTransferCycles(c, 17)]).toEqual([0, 1, 1, 2]);
  });
});
