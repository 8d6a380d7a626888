// The read probe must touch every float of each thread's slice exactly once
// (4 interleaved streams plus the tail past 4 equal quarters), or its GB/s is wrong.
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuWasmProbes, type CpuWasmProbes } from './probes';

describe('cpu-wasm read probe', () => {
  let probes: CpuWasmProbes | undefined;
  afterAll(async () => {
    await probes?.dispose();
  });

  it('sums each thread slice of a buffer of ones exactly once, tails included', async () => {
    probes = await createCpuWasmProbes({ threads: 3 });
    const bytes = 5 * 4096;
    probes.prepareRead(bytes);
    // 1 and 2 threads: slices are whole multiples of 4 × 64 B, so every float is read.
    expect(probes.readOnce(1)).toBe(bytes / 4);
    expect(probes.readOnce(2)).toBe(bytes / 4);
    // 3 threads: each slice is floor(bytes / 3) rounded down to 64 B = 6784 B, whose
    // quarters (1664 B each, rounded to 64 B) leave a 128 B tail per thread.
    const slice = Math.floor(bytes / 3) & ~63;
    expect(slice % 256).not.toBe(0);
    expect(probes.readOnce(3)).toBe((3 * slice) / 4);
  });
});
