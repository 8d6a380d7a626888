// The optional model kernels of the contract (everything a LLaMA-family
// forward pass needs besides the matmuls), f32 in and out with float64
// reductions and angles, matching the float64 references of @sparq/tensor
// (rmsNormRef, ropeRef, attentionRef, siluMulRef) to f32 accuracy:
//  - rmsnorm:  out[r, i] = w[i] · x[r, i] / sqrt(mean(x[r]²) + eps); x [m, d] row-major, one block per row.
//  - silu_mul: out = gate / (1 + e^(−gate)) · up, elementwise over [m, f].
//  - rope:     rotate-half RoPE; x [m, heads·hd], positions i32 [m], invFreq f64 [hd/2]; angle p·invFreq in f64.
//  - attention: causal GQA (optional sliding window) of q [m, H·hd] against k, v [t, Hkv·hd]; one block per
//    (query row, head), scores kept in a global scratch [m, H, t]: scores → max → exp/sum → weighted values.
// Correctness-first kernels (no flash-attention tiling); they exist so a whole model can stay on the GPU.
#include "../launch.h"
#include "common.cuh"

namespace sparq {

constexpr int kModelThreads = 128;

__device__ double block_reduce(double v, bool isMax, double* sh) {
  for (int o = 16; o > 0; o >>= 1) {
    const double w = __shfl_xor_sync(0xffffffffu, v, o);
    v = isMax ? fmax(v, w) : v + w;
  }
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  __syncthreads();  // sh may still be read by a previous reduction
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  double r = sh[0];
  for (int i = 1; i < (int)(blockDim.x >> 5); ++i) r = isMax ? fmax(r, sh[i]) : r + sh[i];
  return r;
}

__global__ void rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y, int d, float eps) {
  __shared__ double sh[32];
  const float* xr = x + (size_t)blockIdx.x * d;
  double ss = 0;
  for (int i = threadIdx.x; i < d; i += blockDim.x) ss += (double)xr[i] * xr[i];
  ss = block_reduce(ss, false, sh);
  const double inv = 1.0 / sqrt(ss / d + (double)eps);
  for (int i = threadIdx.x; i < d; i += blockDim.x) y[(size_t)blockIdx.x * d + i] = (float)((double)w[i] * xr[i] * inv);
}

__global__ void silu_mul_kernel(const float* __restrict__ g, const float* __restrict__ u, float* __restrict__ y, size_t n) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = (float)((double)g[i] / (1.0 + exp(-(double)g[i])) * u[i]);
}

__global__ void rope_kernel(const float* __restrict__ x, const int* __restrict__ pos, const double* __restrict__ invFreq, float* __restrict__ y, int m, int width,
                            int hd) {
  const int half = hd / 2;
  const size_t total = (size_t)m * (width / 2);
  const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int r = (int)(idx / (width / 2));
  const int rem = (int)(idx % (width / 2));
  const int head = rem / half, i = rem % half;
  double s, c;
  sincos((double)pos[r] * invFreq[i], &s, &c);
  const size_t o = (size_t)r * width + (size_t)head * hd;
  const double x1 = x[o + i], x2 = x[o + i + half];
  y[o + i] = (float)(x1 * c - x2 * s);
  y[o + i + half] = (float)(x2 * c + x1 * s);
}

__global__ void attention_kernel(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v, float* __restrict__ out,
                                 double* __restrict__ scratch, int t, int numHeads, int numKvHeads, int hd, int qPos0, int window) {
  __shared__ double sh[32];
  const int r = blockIdx.x / numHeads, h = blockIdx.x % numHeads;
  const int kvh = h / (numHeads / numKvHeads);
  const int qW = numHeads * hd, kW = numKvHeads * hd;
  const int p = qPos0 + r;
  const int first = window > 0 ? max(0, p - window + 1) : 0;
  const double scale = 1.0 / sqrt((double)hd);
  double* sc = scratch + (size_t)blockIdx.x * t;
  const float* qr = q + (size_t)r * qW + h * hd;
  double mx = -1e300;
  for (int j = first + threadIdx.x; j <= p; j += blockDim.x) {
    const float* kr = k + (size_t)j * kW + kvh * hd;
    double dot = 0;
    for (int i = 0; i < hd; ++i) dot += (double)qr[i] * kr[i];
    sc[j] = dot * scale;
    mx = fmax(mx, dot * scale);
  }
  mx = block_reduce(mx, true, sh);
  double sum = 0;
  for (int j = first + threadIdx.x; j <= p; j += blockDim.x) {
    const double e = exp(sc[j] - mx);
    sc[j] = e;
    sum += e;
  }
  sum = block_reduce(sum, false, sh);  // its __syncthreads also orders the sc writes before the reads below
  for (int i = threadIdx.x; i < hd; i += blockDim.x) {
    double acc = 0;
    for (int j = first; j <= p; ++j) acc += sc[j] * v[(size_t)j * kW + kvh * hd + i];
    out[(size_t)r * qW + h * hd + i] = (float)(acc / sum);
  }
}

void launch_rmsnorm(const float* x, const float* w, float* y, int m, int d, float eps, cudaStream_t st) {
  if (m > 0 && d > 0) rmsnorm_kernel<<<m, kModelThreads, 0, st>>>(x, w, y, d, eps);
}
void launch_silu_mul(const float* g, const float* u, float* y, size_t n, cudaStream_t st) {
  if (n > 0) silu_mul_kernel<<<(unsigned)((n + 255) / 256), 256, 0, st>>>(g, u, y, n);
}
void launch_rope(const float* x, const int* pos, const double* invFreq, float* y, int m, int width, int hd, cudaStream_t st) {
  const size_t total = (size_t)m * (width / 2);
  if (total > 0) rope_kernel<<<(unsigned)((total + 255) / 256), 256, 0, st>>>(x, pos, invFreq, y, m, width, hd);
}
void launch_attention(const float* q, const float* k, const float* v, float* out, double* scratch, int m, int t, int numHeads, int numKvHeads, int hd,
                      int qPos0, int window, cudaStream_t st) {
  if (m > 0) attention_kernel<<<m * numHeads, kModelThreads, 0, st>>>(q, k, v, out, scratch, t, numHeads, numKvHeads, hd, qPos0, window);
}

}  // namespace sparq
