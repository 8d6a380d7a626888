/**
 * Tiled GEMM for dense weights: 16×16 output tiles, A and B tiles staged in
 * workgroup memory, each loaded element reused 16 times. `b` is either
 * `[k, n]` (each chunk a block of columns stored as its own `[k, nc]` matrix,
 * see `weight-layout.ts`) or the `Linear` layout `[n, k]` in f32 or packed
 * f16 (each chunk a block of rows) — the prefill path for `transposeB`
 * weights, where the row kernel would re-read the weight every 8 rows.
 */
import { halfReader, MATMUL_PARAMS } from './common';

/** Output tile edge. */
export const GEMM_TILE = 16;

/** How the tiled GEMM reads `b`. */
export type GemmLayout = 'N-f32' | 'T-f32' | 'T-f16';

/** WGSL of the tiled GEMM. Bindings: 0 params, 1 A `[m, k]`, 2 OUT `[m, ldo]`, 3 B (chunk). */
export function gemmTiledWgsl(layout: GemmLayout): string {
  const T = GEMM_TILE;
  // B tile element (p, c) = b[t·T + p, col0 + c]. `[k, n]`: thread (y, x) loads
  // (p = y, c = x), consecutive x reading consecutive addresses. `[n, k]`: it
  // loads (p = x, c = y) instead, so consecutive x still read consecutive k.
  const loadB =
    layout === 'N-f32'
      ? `let br = t * T + lid.y;
    var bv = 0.0;
    if (br < P.k && col < P.n) { bv = B[br * P.n + col]; }
    Bs[lid.y * T + lid.x] = bv;`
      : `let bc = wid.x * T + lid.y;
    let bp = t * T + lid.x;
    var bv = 0.0;
    if (bp < P.k && bc < P.n) { bv = ${layout === 'T-f16' ? 'f16_B(bc * P.k + bp)' : 'B[bc * P.k + bp]'}; }
    Bs[lid.x * T + lid.y] = bv;`;
  return /* wgsl */ `${MATMUL_PARAMS}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<${layout === 'T-f16' ? 'u32' : 'f32'}>;
${layout === 'T-f16' ? halfReader('B') : ''}
const T: u32 = ${T}u;
var<workgroup> As: array<f32, ${T * T}>;
var<workgroup> Bs: array<f32, ${T * T}>;

@compute @workgroup_size(${T}, ${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * T + lid.y;
  let col = wid.x * T + lid.x;
  var acc = 0.0;
  let tiles = (P.k + T - 1u) / T;
  for (var t = 0u; t < tiles; t++) {
    let ac = t * T + lid.x;
    var av = 0.0;
    if (row < P.m && ac < P.k) { av = A[row * P.k + ac]; }
    As[lid.y * T + lid.x] = av;
    ${loadB}
    workgroupBarrier();
    for (var p = 0u; p < T; p++) { acc += As[lid.y * T + p] * Bs[p * T + lid.x]; }
    workgroupBarrier();
  }
  if (row < P.m && col < P.n) { OUT[row * P.ldo + P.j0 + col] = acc; }
}
`;
}
