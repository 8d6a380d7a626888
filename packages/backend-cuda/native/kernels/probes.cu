// Device-limit probes, run in the same process as the benchmarks so ratios are
// to limits measured on the same device at the same time:
//  - bandwidth: every thread streams 16-byte loads over a large buffer and
//    folds them into a sink (read bandwidth, the bound of batch-1 GEMV);
//  - mma / mma.sp: each warp issues `iters` rounds of 4 independent
//    m16n8k16 (resp. m16n8k32 sparse) f16→f32 mma on register operands —
//    the mma.sync peak the kernels here can reach (not wgmma's).
#include "../launch.h"
#include "common.cuh"

namespace sparq {

__global__ void probe_bw_kernel(const uint4* __restrict__ buf, size_t n16, float* sink) {
  uint32_t acc = 0;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n16; i += (size_t)gridDim.x * blockDim.x) {
    const uint4 v = buf[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) sink[0] = 1.f;  // practically never: keeps the loads alive
}

void launch_probe_bandwidth(const void* buf, size_t bytes, float* sink, cudaStream_t st) {
  const int blocks = 8 * (g_sm_count > 0 ? g_sm_count : 108);
  probe_bw_kernel<<<blocks, 512, 0, st>>>(static_cast<const uint4*>(buf), bytes / 16, sink);
}

__global__ void probe_mma_kernel(float* sink, int iters) {
  uint32_t a[4] = {threadIdx.x, threadIdx.x ^ 1u, threadIdx.x ^ 2u, threadIdx.x ^ 3u};
  float d[4][4] = {};
  for (int i = 0; i < iters; ++i) {
#pragma unroll
    for (int c = 0; c < 4; ++c) mma_16816(d[c], a, a[c & 1] ^ (uint32_t)i, a[2]);
  }
  float s = 0.f;
#pragma unroll
  for (int c = 0; c < 4; ++c) s += d[c][0] + d[c][1] + d[c][2] + d[c][3];
  if (s == 1234.5f) sink[0] = s;
}

__global__ void probe_mma_sp_kernel(float* sink, int iters) {
  uint32_t a[4] = {threadIdx.x, threadIdx.x ^ 1u, threadIdx.x ^ 2u, threadIdx.x ^ 3u};
  uint32_t b[4] = {a[3], a[2], a[1], a[0]};
  const uint32_t e = 0x44444444u;  // every chunk keeps positions 0 and 1
  float d[4][4] = {};
  for (int i = 0; i < iters; ++i) {
    b[0] ^= (uint32_t)i;
#pragma unroll
    for (int c = 0; c < 4; ++c) mma_sp_16832(d[c], a, b, e);
  }
  float s = 0.f;
#pragma unroll
  for (int c = 0; c < 4; ++c) s += d[c][0] + d[c][1] + d[c][2] + d[c][3];
  if (s == 1234.5f) sink[0] = s;
}

void launch_probe_mma(float* sink, int iters, int blocks, cudaStream_t st) { probe_mma_kernel<<<blocks, 256, 0, st>>>(sink, iters); }
void launch_probe_mma_sp(float* sink, int iters, int blocks, cudaStream_t st) { probe_mma_sp_kernel<<<blocks, 256, 0, st>>>(sink, iters); }

}  // namespace sparq
