// Dense f32 GEMM, CUDA cores: y[m, n] = a[m, k] · b[k, n], or a · bᵀ with b
// [n, k] (transB). The contract's matmulDense promises f32 accuracy (NMSE
// ≤ 1e-10 in the conformance suite), which f16 tensor cores cannot give, so
// this is the kernel behind matmulDense; dense_f16_mma.cu is the fast path
// for f16 weights. Reads a, b row-major f32 as given by the caller.
// Classic 16×16 shared-memory tiling with f32 fused multiply-adds.
#include "../launch.h"
#include "common.cuh"

namespace sparq {

constexpr int kT = 16;

__global__ void dense_f32_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y, int m, int k, int n, bool transB) {
  __shared__ float As[kT][kT];
  __shared__ float Bs[kT][kT + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kT + ty;  // output row (batch)
  const int col = blockIdx.x * kT + tx;  // output column (feature)
  float acc = 0.f;
  for (int k0 = 0; k0 < k; k0 += kT) {
    As[ty][tx] = (row < m && k0 + tx < k) ? a[(size_t)row * k + k0 + tx] : 0.f;
    // Bs[kk][j] = B(k0 + kk, blockCol + j)
    if (transB) {
      const int j = blockIdx.x * kT + ty;  // coalesced along k
      Bs[tx][ty] = (j < n && k0 + tx < k) ? b[(size_t)j * k + k0 + tx] : 0.f;
    } else {
      Bs[ty][tx] = (k0 + ty < k && col < n) ? b[(size_t)(k0 + ty) * n + col] : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kT; ++kk) acc = fmaf(As[ty][kk], Bs[kk][tx], acc);
    __syncthreads();
  }
  if (row < m && col < n) y[(size_t)row * n + col] = acc;
}

void launch_dense_f32(const float* a, const float* b, float* y, int m, int k, int n, bool transB, cudaStream_t st) {
  if (m == 0 || n == 0) return;
  dim3 block(kT, kT), grid((n + kT - 1) / kT, (m + kT - 1) / kT);
  dense_f32_kernel<<<grid, block, 0, st>>>(a, b, y, m, k, n, transB);
}

}  // namespace sparq
