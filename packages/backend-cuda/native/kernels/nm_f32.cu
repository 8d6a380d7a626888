// N:M sparse GEMM in f32, CUDA cores (any n:m of docs/format.md §3, e.g. 2:4,
// 4:8): y[m, n] = a[m, k] · decode(W)ᵀ. The contract's matmulNM promises f32
// arithmetic, so this is its kernel; sparse24_mma.cu is the f16 tensor-core
// path for 2:4. Reads the §3 layout as stored: values [n, k·nKeep/mGroup] f32
// and in-group positions, ceil(log2 mGroup) bits each, rows packed LSB-first
// (§1). One thread per output element; rows of W are re-read per batch row
// through L1/L2 (simple, exact, not fast).
#include "../launch.h"
#include "common.cuh"

namespace sparq {

__global__ void nm_f32_kernel(const float* __restrict__ a, const float* __restrict__ values, const uint8_t* __restrict__ indices, float* __restrict__ y,
                              int m, int k, int n, int nKeep, int mGroup, int idxBits, int rowBytes) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;  // output feature
  const int i = blockIdx.y;                             // batch row
  if (j >= n || i >= m) return;
  const int L = (k / mGroup) * nKeep;
  const float* v = values + (size_t)j * L;
  const uint8_t* ix = indices + (size_t)j * rowBytes;
  const float* ar = a + (size_t)i * k;
  float acc = 0.f;
  for (int s = 0; s < L; ++s) {
    const int bit = s * idxBits;
    int word = ix[bit >> 3];
    if ((bit & 7) + idxBits > 8) word |= ix[(bit >> 3) + 1] << 8;
    const int pos = (word >> (bit & 7)) & ((1 << idxBits) - 1);
    acc = fmaf(ar[(s / nKeep) * mGroup + pos], v[s], acc);
  }
  y[(size_t)i * n + j] = acc;
}

void launch_nm_f32(const float* a, const float* values, const uint8_t* indices, float* y, int m, int k, int n, int nKeep, int mGroup, cudaStream_t st) {
  if (m == 0 || n == 0) return;
  int idxBits = 1;
  while ((1 << idxBits) < mGroup) ++idxBits;
  const int L = (k / mGroup) * nKeep;
  const int rowBytes = (L * idxBits + 7) / 8;
  dim3 grid((n + 127) / 128, m);
  nm_f32_kernel<<<grid, 128, 0, st>>>(a, values, indices, y, m, k, n, nKeep, mGroup, idxBits, rowBytes);
}

}  // namespace sparq
