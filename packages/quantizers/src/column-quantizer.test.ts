import { describe, expect, it } from 'vitest';
import { createColumnQuantizer } from './column-quantizer';
import { rtnQuantize } from './rtn';
import { makeLayer, sparqCode } from './test-data';

describe('createColumnQuantizer', () => {
  const rows = 10;
  const cols = 48;
  const { W } = makeLayer(rows, cols, 1, 4);
  const w = { rows, cols, data: W };
  const column = (j: number) => Float64Array.from({ length: rows }, (_, r) => W[r * cols + j]!);

  it('per-channel 4-bit asym reproduces RTN per-channel codes on the original W', () => {
    const cq = createColumnQuantizer(w, { bits: 4, groupSize: -1, sym: false });
    expect(cq.beginGroup).toBeUndefined();
    expect(cq.groupSize).toBe(cols);
    const rtn = rtnQuantize(w, { bits: 4, groupSize: -1, sym: false });
    for (let j = 0; j < cols; j++) {
      const out = cq.quantize(column(j), j);
      for (let r = 0; r < rows; r++) expect(out[r]).toBe(rtn.weight[r * cols + j]);
    }
    const res = cq.result();
    expect(Array.from(res.codes)).toEqual(Array.from(rtn.codes));
    expect(Array.from(res.scales)).toEqual(Array.from(rtn.scales));
    expect(Array.from(res.zeros)).toEqual(Array.from(rtn.zeros));
  });

  it('grouped: beginGroup fits each group on the block it is given (here the original W, so RTN again)', () => {
    const cq = createColumnQuantizer(w, { bits: 3, groupSize: 16, sym: true });
    for (let j = 0; j < cols; j++) {
      if (j % 16 === 0) {
        const block = new Float64Array(rows * 16);
        for (let r = 0; r < rows; r++) for (let t = 0; t < 16; t++) block[r * 16 + t] = W[r * cols + j + t]!;
        cq.beginGroup!(block, j, 16);
      }
      cq.quantize(column(j), j);
    }
    const rtn = rtnQuantize(w, { bits: 3, groupSize: 16, sym: true });
    expect(Array.from(cq.result().codes)).toEqual(Array.from(rtn.codes));
  });

  it('maps pruned (zero) weights to exactly 0', () => {
    const cq = createColumnQuantizer(w, { bits: 4, groupSize: -1, sym: false, f16Stats: true });
    const out = cq.quantize(new Float64Array(rows), 3);
    expect(Array.from(out)).toEqual(new Array(rows).fill(0));
  });

  it('refuses a column before its group was begun, and malformed blocks', () => {
    const cq = createColumnQuantizer(w, { bits: 4, groupSize: 16, sym: false });
    expect(sparqCode(() => cq.quantize(column(0), 0))).toBe('E_INTERNAL');
    expect(sparqCode(() => cq.beginGroup!(new Float64Array(rows * 16), 8, 16))).toBe('E_SHAPE_MISMATCH');
    expect(sparqCode(() => cq.beginGroup!(new Float64Array(5), 0, 16))).toBe('E_SHAPE_MISMATCH');
  });
});
