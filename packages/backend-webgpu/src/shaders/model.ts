/**
 * WGSL of the optional model kernels: RMSNorm, RoPE, causal GQA attention
 * over a KV cache (online softmax, no score scratch buffer), SiLU·up.
 * Grids larger than 65535 workgroups fold into a second dimension; the
 * kernels recover the linear id from `num_workgroups`.
 */

/** Workgroup size of every model kernel. */
export const MODEL_WG = 64;
/** Largest head dimension the attention kernel handles (4 output dims per thread). */
export const ATTENTION_MAX_HEAD_DIM = 4 * MODEL_WG;

const LINEAR_ID = 'let wg = wid.x + wid.y * nwg.x;';
const BUILTINS =
  '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) tid: u32';

/** One workgroup per row; bindings 0 params {m, d, eps}, 1 X, 2 weight, 3 OUT. */
export const RMS_NORM_WGSL = /* wgsl */ `
struct Params { m: u32, d: u32, eps: f32, pad: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
var<workgroup> red: array<f32, ${MODEL_WG}>;

@compute @workgroup_size(${MODEL_WG})
fn main(${BUILTINS}) {
  ${LINEAR_ID}
  if (wg >= P.m) { return; }
  let o = wg * P.d;
  var s = 0.0;
  for (var i = tid; i < P.d; i += ${MODEL_WG}u) { let v = X[o + i]; s += v * v; }
  red[tid] = s;
  workgroupBarrier();
  for (var h = ${MODEL_WG / 2}u; h > 0u; h = h >> 1u) {
    if (tid < h) { red[tid] += red[tid + h]; }
    workgroupBarrier();
  }
  let inv = 1.0 / sqrt(red[0] / f32(P.d) + P.eps);
  for (var i = tid; i < P.d; i += ${MODEL_WG}u) { OUT[o + i] = Wt[i] * (X[o + i] * inv); }
}
`;

/**
 * One thread per (row, head, i < headDim/2); bindings 0 params, 1 X, 2 CS
 * (`[m, half]` pairs of cos, sin — computed in float64 on the host), 3 OUT.
 */
export const ROPE_WGSL = /* wgsl */ `
struct Params { total: u32, width: u32, hd: u32, heads: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> CS: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(${MODEL_WG})
fn main(${BUILTINS}) {
  ${LINEAR_ID}
  let g = wg * ${MODEL_WG}u + tid;
  if (g >= P.total) { return; }
  let half = P.hd / 2u;
  let i = g % half;
  let rh = g / half;
  let r = rh / P.heads;
  let o = r * P.width + (rh % P.heads) * P.hd;
  let c = CS[(r * half + i) * 2u];
  let s = CS[(r * half + i) * 2u + 1u];
  let x1 = X[o + i];
  let x2 = X[o + i + half];
  OUT[o + i] = x1 * c - x2 * s;
  OUT[o + i + half] = x2 * c + x1 * s;
}
`;

/**
 * One workgroup per (query row, head). Keys are visited in blocks of
 * {@link MODEL_WG}: each thread scores one key, the block max and sum are
 * reduced in workgroup memory and the running output is rescaled (online
 * softmax), so memory stays O(headDim) whatever the cache length.
 * Bindings 0 params, 1 Q, 2 K, 3 V, 4 OUT.
 */
export const ATTENTION_WGSL = /* wgsl */ `
struct Params { m: u32, heads: u32, group: u32, hd: u32, q0: u32, win: u32, scale: f32, pad: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;
var<workgroup> sc: array<f32, ${MODEL_WG}>;
var<workgroup> red: array<f32, ${MODEL_WG}>;
const NEG: f32 = -3.0e38;

@compute @workgroup_size(${MODEL_WG})
fn main(${BUILTINS}) {
  ${LINEAR_ID}
  if (wg >= P.m * P.heads) { return; }
  let r = wg / P.heads;
  let h = wg % P.heads;
  let kvh = h / P.group;
  let qW = P.heads * P.hd;
  let kW = (P.heads / P.group) * P.hd;
  let qo = r * qW + h * P.hd;
  let pos = P.q0 + r;
  var first = 0u;
  if (P.win > 0u && pos + 1u > P.win) { first = pos + 1u - P.win; }
  let cnt = pos + 1u - first;
  var mx = NEG;
  var total = 0.0;
  var acc: array<f32, 4>;
  for (var b = 0u; b < cnt; b += ${MODEL_WG}u) {
    let j = b + tid;
    var s = NEG;
    if (j < cnt) {
      let ko = (first + j) * kW + kvh * P.hd;
      var dot = 0.0;
      for (var i = 0u; i < P.hd; i++) { dot += Q[qo + i] * K[ko + i]; }
      s = dot * P.scale;
    }
    red[tid] = s;
    workgroupBarrier();
    for (var hh = ${MODEL_WG / 2}u; hh > 0u; hh = hh >> 1u) {
      if (tid < hh) { red[tid] = max(red[tid], red[tid + hh]); }
      workgroupBarrier();
    }
    let newMx = max(mx, red[0]);
    let corr = exp(mx - newMx);
    workgroupBarrier();
    var e = 0.0;
    if (j < cnt) { e = exp(s - newMx); }
    sc[tid] = e;
    red[tid] = e;
    workgroupBarrier();
    for (var hh = ${MODEL_WG / 2}u; hh > 0u; hh = hh >> 1u) {
      if (tid < hh) { red[tid] += red[tid + hh]; }
      workgroupBarrier();
    }
    total = total * corr + red[0];
    let nb = min(${MODEL_WG}u, cnt - b);
    for (var q = 0u; q < 4u; q++) {
      let i = tid + q * ${MODEL_WG}u;
      if (i < P.hd) {
        var a = acc[q] * corr;
        for (var jj = 0u; jj < nb; jj++) { a += sc[jj] * V[(first + b + jj) * kW + kvh * P.hd + i]; }
        acc[q] = a;
      }
    }
    mx = newMx;
    workgroupBarrier();
  }
  for (var q = 0u; q < 4u; q++) {
    let i = tid + q * ${MODEL_WG}u;
    if (i < P.hd) { OUT[qo + i] = acc[q] / total; }
  }
}
`;

/** One thread per element; bindings 0 params {count}, 1 gate, 2 up, 3 OUT. */
export const SILU_MUL_WGSL = /* wgsl */ `
struct Params { count: u32, pad0: u32, pad1: u32, pad2: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Gt: array<f32>;
@group(0) @binding(2) var<storage, read> Up: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(${MODEL_WG})
fn main(${BUILTINS}) {
  ${LINEAR_ID}
  let i = wg * ${MODEL_WG}u + tid;
  if (i >= P.count) { return; }
  let g = Gt[i];
  OUT[i] = g / (1.0 + exp(-g)) * Up[i];
}
`;
