/**
 * The "one weight row per workgroup" matmul family: GEMV-shaped kernels for
 * every weight layout stored row-major along k (`Linear` layout). A workgroup
 * of {@link REDUCE_WG} threads owns output column j of up to
 * {@link ROWS_PER_WG} activation rows; threads stride over the row's units
 * (columns, or kept N:M slots), decode the weight on the fly in f32 and
 * accumulate, then reduce in workgroup memory. Weight bytes are read once per
 * workgroup, which is what a memory-bound GEMV needs; GEMM (m > 1) reuses each
 * decoded weight for {@link ROWS_PER_WG} rows. Quantized layouts are
 * *segmented*: a thread takes 8 consecutive codes (exactly `bits` bytes, so
 * one to three word loads) and loads a group's scale and zero-point once.
 *
 * Dequantization is `scale · (q − zero)` in f32: exact for f16 scales and
 * integer zero-points (an 11-bit by 9-bit product), so it equals the
 * reference decoders' `fround(scale · (q − zero))`.
 */
import { codeReader, halfReader, MATMUL_PARAMS, REDUCE_WG, ROWS_PER_WG, SEGMENT, SEGMENT_CODE, segmentReader } from './common';

/** Which weight layout a row kernel decodes, with its compile-time constants. */
export type RowKernelSpec =
  | { kind: 'dense' }
  | { kind: 'dense-f16' }
  | { kind: 'quant'; bits: number; sym: boolean }
  | { kind: 'nm'; n: number; m: number }
  | { kind: 'nm-quant'; bits: number; sym: boolean; n: number; m: number }
  | { kind: 'spqr'; bits: number };

/** A stable cache key of a spec. */
export function rowKernelKey(s: RowKernelSpec): string {
  return `rows:${JSON.stringify(s)}`;
}

/** Storage buffers (in binding order after A and OUT) each spec binds. */
export function rowKernelBuffers(s: RowKernelSpec): string[] {
  switch (s.kind) {
    case 'dense':
    case 'dense-f16':
      return ['W'];
    case 'quant':
      return s.sym ? ['codes', 'scales'] : ['codes', 'scales', 'zeros'];
    case 'nm':
      return ['vals', 'idx'];
    case 'nm-quant':
      return s.sym ? ['codes', 'scales', 'idx'] : ['codes', 'scales', 'zeros', 'idx'];
    case 'spqr':
      return ['codes', 'sc', 'zr', 'rowptr', 'ocols', 'ovals'];
  }
}

const idxBits = (m: number): number => Math.max(1, Math.ceil(Math.log2(m)));

function zeroExpr(s: { bits: number; sym: boolean }, g: string): string {
  // Symmetric: the zero-point is 2^(bits−1) (§2).
  return s.sym ? `${2 ** (s.bits - 1)}.0` : `f32(read_zeros(j * P.zb, ${g}, ${s.bits}u))`;
}

/** The loop bound and the body that sets `col` and `w` for unit `u` of row `j`. */
function body(s: RowKernelSpec): { units: string; code: string; helpers: string; segmented?: boolean } {
  switch (s.kind) {
    case 'dense':
      return { units: 'P.k', code: 'let col = u; let w = W[j * P.k + u];', helpers: '' };
    case 'dense-f16':
      return { units: 'P.k', code: 'let col = u; let w = f16_W(j * P.k + u);', helpers: halfReader('W') };
    case 'quant':
      return {
        units: 'P.k',
        segmented: true,
        code: `let cs = seg_codes(j * P.rb, sg, ${s.bits}u);
    var lastG = 0xffffffffu;
    var sc = 0.0;
    var zp = 0.0;
    for (var e = 0u; e < ${SEGMENT}u; e++) {
      let u = sg * ${SEGMENT}u + e;
      if (u >= P.k) { break; }
      let g = u / P.gs;
      // Scale and zero-point once per group, not per code.
      if (g != lastG) { lastG = g; sc = f16_scales(j * P.G + g); zp = ${zeroExpr(s, 'g')}; }
      let col = u;
      let w = sc * (f32(seg_code(cs, e, ${s.bits}u)) - zp);
      ACCUMULATE
    }`,
        helpers: segmentReader('codes') + SEGMENT_CODE + halfReader('scales') + (s.sym ? '' : codeReader('zeros')),
      };
    case 'nm':
      return {
        units: 'P.L',
        code: `let col = (u / ${s.n}u) * ${s.m}u + read_idx(j * P.ib, u, ${idxBits(s.m)}u);
    let w = vals[j * P.L + u];`,
        helpers: codeReader('idx'),
      };
    case 'nm-quant':
      return {
        units: 'P.L',
        segmented: true,
        code: `let cs = seg_codes(j * P.rb, sg, ${s.bits}u);
    let is = seg_idx(j * P.ib, sg, ${idxBits(s.m)}u);
    var lastG = 0xffffffffu;
    var sc = 0.0;
    var zp = 0.0;
    for (var e = 0u; e < ${SEGMENT}u; e++) {
      let u = sg * ${SEGMENT}u + e;
      if (u >= P.L) { break; }
      let g = u / P.spg;
      if (g != lastG) { lastG = g; sc = f16_scales(j * P.G + g); zp = ${zeroExpr(s, 'g')}; }
      let col = (u / ${s.n}u) * ${s.m}u + seg_code(is, e, ${idxBits(s.m)}u);
      let w = sc * (f32(seg_code(cs, e, ${s.bits}u)) - zp);
      ACCUMULATE
    }`,
        helpers: segmentReader('codes') + segmentReader('idx') + SEGMENT_CODE + halfReader('scales') + (s.sym ? '' : codeReader('zeros')),
      };
    case 'spqr':
      return {
        units: 'P.k',
        code: `let col = u;
    let w = spqr_base(j, u);`,
        helpers:
          codeReader('codes') +
          halfReader('ovals') +
          /* wgsl */ `
// First-level scale/zero arrive decoded (f32, from the §6 bilevel statistics).
fn spqr_base(j: u32, c: u32) -> f32 {
  let t = j * P.G + c / P.gs;
  return sc[t] * (f32(read_codes(j * P.rb, c, ${s.bits}u)) - zr[t]);
}`,
      };
  }
}

/** Element type of each bound array: f32 data, everything else raw u32 words (codes, halves, offsets). */
const F32_ARRAYS = new Set(['vals', 'sc', 'zr']);

function declare(s: RowKernelSpec, name: string, binding: number): string {
  // Dense f32 weights are f32; dense-f16 weights are packed halves in u32 words.
  const f32 = F32_ARRAYS.has(name) || (name === 'W' && s.kind === 'dense');
  return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<${f32 ? 'f32' : 'u32'}>;`;
}

/** WGSL of a row kernel. Bindings: 0 params, 1 A `[m, k]`, 2 OUT `[m, ldo]`, 3… the spec's buffers. */
export function rowKernelWgsl(s: RowKernelSpec): string {
  const bufs = rowKernelBuffers(s);
  const decls = bufs.map((b, i) => declare(s, b, i + 3));
  const { units, code, helpers, segmented } = body(s);
  const accumulate = 'for (var r = 0u; r < mc; r++) { acc[r] += A[(i0 + r) * P.k + col] * w; }';
  // Segmented layouts: each thread takes 8 consecutive units (one load per code word).
  const loop = segmented
    ? `for (var sg = tid; sg * ${SEGMENT}u < ${units}; sg += ${REDUCE_WG}u) {
    ${code.replace('ACCUMULATE', accumulate)}
  }`
    : `for (var u = tid; u < ${units}; u += ${REDUCE_WG}u) {
    ${code}
    ${accumulate}
  }`;
  const MT = ROWS_PER_WG;
  // SpQR outliers overwrite the base value: add a·(outlier − base) per outlier (§5).
  const outliers =
    s.kind === 'spqr'
      ? /* wgsl */ `
  let pe = rowptr[j + 1u];
  for (var p = rowptr[j] + tid; p < pe; p += ${REDUCE_WG}u) {
    let c = ocols[p];
    let d = f16_ovals(p) - spqr_base(j, c);
    for (var r = 0u; r < mc; r++) { acc[r] += A[(i0 + r) * P.k + c] * d; }
  }`
      : '';
  return /* wgsl */ `${MATMUL_PARAMS}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
${decls.join('\n')}
${helpers}
var<workgroup> part: array<f32, ${REDUCE_WG * MT}>;

@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let j = wid.x;
  let i0 = wid.y * ${MT}u;
  let mc = min(${MT}u, P.m - i0);
  var acc: array<f32, ${MT}>;
  ${loop}${outliers}
  for (var r = 0u; r < ${MT}u; r++) { part[tid * ${MT}u + r] = acc[r]; }
  workgroupBarrier();
  for (var s = ${REDUCE_WG / 2}u; s > 0u; s = s >> 1u) {
    if (tid < s) {
      for (var r = 0u; r < ${MT}u; r++) { part[tid * ${MT}u + r] += part[(tid + s) * ${MT}u + r]; }
    }
    workgroupBarrier();
  }
  if (tid < mc) { OUT[(i0 + tid) * P.ldo + P.j0 + j] = part[tid]; }
}
`;
}
