// Dense f16 GEMM/GEMV on tensor cores: y[m, n] (f32) = x[m, k] · W[n, k]ᵀ with
// mma.sync.m16n8k16 (f16 inputs, f32 accumulation).
// Reads: W in the dense f16 fragment-packed layout (common.cuh; packed by
// src/packing/fragments.ts or by decode_packed.cu), x as f16 [mPad, kPad].
// Each warp owns one 16-row tile of W and kNB·8 batch rows; the same code is
// the GEMV (m = 1: one n8 tile, split-k across the grid) and the GEMM path.
// Untuned first version: no shared-memory staging or cp.async pipelining.
#include "../launch.h"
#include "common.cuh"

namespace sparq {

__global__ void __launch_bounds__(kWarps * 32) dense_f16_mma_kernel(const uint4* __restrict__ w, const __half* __restrict__ x, float* __restrict__ y,
                                                                   int m, int mPad, int kPad, int n, int rowTiles, int ktPerSplit) {
  const int lane = threadIdx.x & 31;
  const int rt = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (rt >= rowTiles) return;
  const int KT = kPad / 16;
  const int b0 = blockIdx.y * 8 * kNB;
  const int kt0 = blockIdx.z * ktPerSplit;
  const int kt1 = min(KT, kt0 + ktPerSplit);
  float acc[kNB][4] = {};
#pragma unroll 4  // several weight loads in flight per warp (batch-1 GEMV is latency/bandwidth bound)
  for (int kt = kt0; kt < kt1; ++kt) {
    const uint4 v = w[fragment_word(rt, kt, KT, lane)];
    const uint32_t a[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int j = 0; j < kNB; ++j) {
      if (b0 + 8 * j >= mPad) break;  // warp-uniform
      uint32_t bl, bh;
      load_b_16(x, kPad, b0 + 8 * j, kt * 16, lane, bl, bh);
      mma_16816(acc[j], a, bl, bh);
    }
  }
#pragma unroll
  for (int j = 0; j < kNB; ++j)
    if (b0 + 8 * j < mPad) store_tile(y, acc[j], rt * 16, b0 + 8 * j, lane, n, m, gridDim.z > 1);
}

void launch_dense_f16(const DenseF16Args& a, cudaStream_t st) {
  const MmaShape& s = a.s;
  if (s.m == 0 || s.n == 0) return;
  const int rowTiles = s.nPad / 16, KT = s.kPad / 16;
  MmaLaunch L;
  if (!plan_mma_launch(s, KT, a.y, st, L)) return;
  dense_f16_mma_kernel<<<L.grid, kWarps * 32, 0, st>>>(static_cast<const uint4*>(a.w), static_cast<const __half*>(a.x), a.y, s.m, s.mPad, s.kPad, s.n,
                                                     rowTiles, L.perSplit);
}

}  // namespace sparq
