// The read probe must touch every float of the buffer exactly once (threads claim 4 KiB-page chunks, each read as
// 4 interleaved streams), or its GB/s is wrong.
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuWasmProbes, type CpuWasmProbes } from './probes';

describe('cpu-wasm read probe', () => {
  let probes: CpuWasmProbes | undefined;
  afterAll(async () => {
    await probes?.dispose();
  });

  it('sums a buffer of ones exactly once on any thread count', async () => {
    probes = await createCpuWasmProbes({ threads: 3 });
    // 5 pages: one page per claim; 37 pages on 3 threads: claims of 2 pages, the last one a single page.
    for (const pages of [5, 37]) {
      const bytes = pages * 4096;
      probes.prepareRead(bytes);
      for (const threads of [1, 2, 3]) expect(probes.readOnce(threads), `${pages} pages, ${threads} threads`).toBe(bytes / 4);
    }
    // The claim counter is an i32: buffers of 2 GiB or more (and empty ones) are refused, naming the size.
    expect(() => probes!.prepareRead(2 ** 31)).toThrow(/2147483648 bytes/);
    expect(() => probes!.prepareRead(0)).toThrow(/E_ARG|0 bytes/);
  });
});
