// INT4 group-dequant GEMM/GEMV, Marlin-style: y[m, n] = x[m, k] · dequant(Q)ᵀ
// where dequant(q) = scale·(q − zero) per (row, group of groupSize columns).
// Reads: Q in the INT4 fragment-packed layout (one u32 of 8 nibbles per lane
// per 16×16 tile, common.cuh), scales and zeros as f16 [nPad, groups]
// (zeros = the integer zero-point, 2^(bits−1) for symmetric weights), x as f16
// [mPad, kPad]. The codes are dequantized in registers straight into the
// m16n8k16 A fragment (dequant_int4_pair), never written to memory.
// Needs groupSize % 16 = 0 so a 16-wide k tile lies in one group.
#include "../launch.h"
#include "common.cuh"

namespace sparq {

__global__ void __launch_bounds__(kWarps * 32) int4_mma_kernel(const uint32_t* __restrict__ w, const __half* __restrict__ scales, const __half* __restrict__ zeros,
                                                              int groups, int groupSize, const __half* __restrict__ x, float* __restrict__ y, int m, int mPad,
                                                              int kPad, int n, int rowTiles, int ktPerSplit) {
  const int lane = threadIdx.x & 31, g = lane >> 2;
  const int rt = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (rt >= rowTiles) return;
  const int KT = kPad / 16;
  const int b0 = blockIdx.y * 8 * kNB;
  const int kt0 = blockIdx.z * ktPerSplit;
  const int kt1 = min(KT, kt0 + ktPerSplit);
  const int rowLo = rt * 16 + g, rowHi = rowLo + 8;
  const __half k1024 = __float2half(1024.f);
  float acc[kNB][4] = {};
#pragma unroll 4  // several weight loads in flight per warp (batch-1 GEMV is latency/bandwidth bound)
  for (int kt = kt0; kt < kt1; ++kt) {
    const uint32_t q = w[fragment_word(rt, kt, KT, lane)];
    const int grp = min((kt * 16) / groupSize, groups - 1);  // k tiles past cols (padding) reuse the last group; their x is 0
    const __half2 sLo = __half2half2(scales[(size_t)rowLo * groups + grp]);
    const __half2 sHi = __half2half2(scales[(size_t)rowHi * groups + grp]);
    const __half2 zLo = __half2half2(__hadd(zeros[(size_t)rowLo * groups + grp], k1024));
    const __half2 zHi = __half2half2(__hadd(zeros[(size_t)rowHi * groups + grp], k1024));
    // reg 0, 2: row g; reg 1, 3: row g + 8 (fragment layout in common.cuh).
    const uint32_t a[4] = {dequant_int4_pair(q, 0, sLo, zLo), dequant_int4_pair(q, 1, sHi, zHi), dequant_int4_pair(q, 2, sLo, zLo),
                           dequant_int4_pair(q, 3, sHi, zHi)};
#pragma unroll
    for (int j = 0; j < kNB; ++j) {
      if (b0 + 8 * j >= mPad) break;
      uint32_t bl, bh;
      load_b_16(x, kPad, b0 + 8 * j, kt * 16, lane, bl, bh);
      mma_16816(acc[j], a, bl, bh);
    }
  }
#pragma unroll
  for (int j = 0; j < kNB; ++j)
    if (b0 + 8 * j < mPad) store_tile(y, acc[j], rt * 16, b0 + 8 * j, lane, n, m, gridDim.z > 1);
}

void launch_int4(const Int4Args& a, cudaStream_t st) {
  const MmaShape& s = a.s;
  if (s.m == 0 || s.n == 0) return;
  const int rowTiles = s.nPad / 16, KT = s.kPad / 16;
  MmaLaunch L;
  if (!plan_mma_launch(s, KT, a.y, st, L)) return;
  int4_mma_kernel<<<L.grid, kWarps * 32, 0, st>>>(static_cast<const uint32_t*>(a.w), static_cast<const __half*>(a.scales), static_cast<const __half*>(a.zeros),
                                                a.groups, a.groupSize, static_cast<const __half*>(a.x), a.y, s.m, s.mPad, s.kPad, s.n, rowTiles, L.perSplit);
}

}  // namespace sparq
