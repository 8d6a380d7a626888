import { isSparqError } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { FreeListAllocator } from './allocator';

describe('FreeListAllocator', () => {
  it('aligns blocks and never overlaps live blocks', () => {
    const a = new FreeListAllocator({ base: 100, end: 100_000, align: 64 });
    const blocks = [1, 63, 64, 65, 1000, 7].map((n) => ({ off: a.alloc(n), n }));
    for (const b of blocks) expect(b.off % 64).toBe(0);
    const sorted = [...blocks].sort((x, y) => x.off - y.off);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.off).toBeGreaterThanOrEqual(sorted[i - 1]!.off + sorted[i - 1]!.n);
  });

  it('coalesces freed neighbours back into one span, in any free order', () => {
    const a = new FreeListAllocator({ base: 0, end: 1 << 20 });
    const offs = Array.from({ length: 20 }, (_, i) => a.alloc(1000 + i * 37));
    for (const i of [3, 17, 0, 19, 5, 4, 18, 1, 2, 6, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]) a.free(offs[i]!);
    expect(a.freeSpanCount).toBe(1);
    expect(a.allocatedBytes).toBe(0);
    // The whole region is reusable after coalescing.
    expect(a.alloc((1 << 20) - 64)).toBe(0);
  });

  it('reuses a freed hole (first fit) before the tail', () => {
    const a = new FreeListAllocator({ base: 0, end: 10_000 });
    const x = a.alloc(1000);
    a.alloc(1000);
    a.free(x);
    expect(a.alloc(500)).toBe(x);
  });

  it('grows through the callback, merging with a free tail', () => {
    let end = 4096;
    const a = new FreeListAllocator({
      base: 0,
      end,
      grow: (minEnd) => (end = Math.ceil(minEnd / 4096) * 4096),
    });
    a.alloc(1024);
    const big = a.alloc(10_000); // does not fit: the free tail [1024, 4096) is extended
    expect(big).toBe(1024);
    expect(end).toBeGreaterThanOrEqual(1024 + 10_048);
  });

  it('throws a SparqError when it cannot grow, and on a double free', () => {
    const a = new FreeListAllocator({ base: 0, end: 4096, grow: () => undefined });
    const x = a.alloc(4096);
    let err: unknown;
    try {
      a.alloc(1);
    } catch (e) {
      err = e;
    }
    expect(isSparqError(err) && err.code).toBe('E_KERNEL_UNSUPPORTED');
    a.free(x);
    expect(() => a.free(x)).toThrow(/unknown block/);
  });

  it('survives a random alloc/free workload without overlap', () => {
    const a = new FreeListAllocator({ base: 0, end: 1 << 16, grow: (m) => Math.ceil(m / 65536) * 65536 });
    const live = new Map<number, number>();
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
    for (let it = 0; it < 2000; it++) {
      if (live.size > 0 && rnd() < 0.45) {
        const keys = [...live.keys()];
        const off = keys[Math.floor(rnd() * keys.length)]!;
        a.free(off);
        live.delete(off);
      } else {
        const n = 1 + Math.floor(rnd() * 5000);
        live.set(a.alloc(n), n);
      }
      if (it % 100 === 0) {
        const spans = [...live].sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![0] + spans[i - 1]![1]);
      }
    }
    for (const off of live.keys()) a.free(off);
    expect(a.freeSpanCount).toBe(1);
  });
});
