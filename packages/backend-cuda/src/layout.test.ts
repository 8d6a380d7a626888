// The kernels' own index arithmetic (native/kernels/layout.cuh, evaluated on
// the host through the addon's layout() export) against (a) the TypeScript
// packing and emulation that the packing tests verify against the reference
// decoders, and (b) the PTX ISA fragment tables restated independently here.
// Needs the built addon (nvcc), not a GPU.
import { f16ToF32 } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { loadCudaAddon } from './native';
import { fragmentElement, fragmentOffset } from './packing/fragments';
import { metaWordIndex } from './packing/sparse24';

const load = loadCudaAddon();
if (!load.ok) console.log(`kernel layout tests skipped: ${load.reason}`);
const addon = load.ok ? load.addon : undefined;

function evalAll(fn: Parameters<NonNullable<typeof addon>['layout']>[0], rows: number[][]): number[] {
  return Array.from(addon!.layout(fn, Float64Array.from(rows.flat())));
}

describe.skipIf(!addon)('kernel index functions (layout.cuh, on the host)', () => {
  it('fragment_offset equals fragmentOffset for every element of a [48, 96] weight', () => {
    const args: number[][] = [];
    for (let r = 0; r < 48; r++) for (let c = 0; c < 96; c++) args.push([r, c, 96]);
    expect(evalAll('fragment_offset', args)).toEqual(args.map(([r, c, k]) => fragmentOffset(r!, c!, k!)));
  });

  it('fragment_word + register/element lands on fragmentOffset (what the mma kernels load)', () => {
    const KT = 6;
    const args: number[][] = [];
    for (let rt = 0; rt < 3; rt++) for (let kt = 0; kt < KT; kt++) for (let lane = 0; lane < 32; lane++) args.push([rt, kt, KT, lane]);
    const words = evalAll('fragment_word', args);
    args.forEach(([rt, kt, , lane], i) => {
      for (let reg = 0; reg < 4; reg++) {
        for (let h = 0; h < 2; h++) {
          const { row, col } = fragmentElement(lane!, reg, h);
          expect(words[i]! * 8 + 2 * reg + h).toBe(fragmentOffset(rt! * 16 + row, kt! * 16 + col, KT * 16));
        }
      }
    });
  });

  it('int4_pair_bits takes nibbles reg and reg + 4, and 0x6400 | q is the f16 1024 + q', () => {
    const words = [0x76543210, 0xfedcba98, 0x0f0f0f0f, 0x12345678, 0xffffffff];
    const args = words.flatMap((w) => [0, 1, 2, 3].map((reg) => [w, reg]));
    expect(evalAll('int4_pair_bits', args)).toEqual(args.map(([w, reg]) => (((w! >>> (4 * reg!)) & 0xf) | (((w! >>> (4 * (reg! + 4))) & 0xf) << 16)) >>> 0));
    for (let q = 0; q < 16; q++) expect(f16ToF32(0x6400 | q)).toBe(1024 + q);
  });

  it('meta_word equals the word the 2:4 emulation resolves metadata from', () => {
    const nPad = 96;
    const args: number[][] = [];
    for (let rt = 0; rt < 6; rt++) for (let kb = 0; kb < 3; kb++) for (let lane = 0; lane < 32; lane++) args.push([nPad, rt, kb, lane]);
    expect(evalAll('meta_word', args)).toEqual(args.map(([n, rt, kb, lane]) => metaWordIndex(n!, rt!, kb!, lane!)));
  });

  it('b_offset follows the ISA B fragment: element i of lane (g, t) is (k = 2t + (i & 1) + 8⌊i/2⌋, n = g)', () => {
    const kPad = 64;
    const args: number[][] = [];
    for (let lane = 0; lane < 32; lane++) for (let j = 0; j < 4; j++) args.push([kPad, 8, 32, lane, j]);
    const got = evalAll('b_offset', args);
    args.forEach(([, b0, k0, lane, j], idx) => {
      const g = lane! >> 2;
      const t = lane! & 3;
      const i = 2 * j!; // the first of the register's two elements
      expect(got[idx]).toBe((b0! + g) * kPad + k0! + 2 * t + (i & 1) + 8 * Math.floor(i / 2));
    });
  });

  it('c_position follows the ISA C/D fragment: c_i of lane (g, t) is (row g + 8⌊i/2⌋, col 2t + (i & 1))', () => {
    const args: number[][] = [];
    for (let lane = 0; lane < 32; lane++) for (let i = 0; i < 4; i++) args.push([lane, i]);
    expect(evalAll('c_position', args)).toEqual(args.map(([lane, i]) => ((lane! >> 2) + 8 * (i! >> 1)) * 65536 + 2 * (lane! & 3) + (i! & 1)));
  });
});
