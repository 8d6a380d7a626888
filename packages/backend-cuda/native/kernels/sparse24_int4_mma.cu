// 2:4 sparse + INT4 GEMM/GEMV (the headline format, docs/format.md §4 with
// n:m = 2:4, 4-bit codes): y[m, n] = x[m, k] · decode(W)ᵀ on sparse tensor
// cores. The kept values' INT4 codes are dequantized in registers (as in
// int4_mma.cu) into the compressed mma.sp A fragment.
// Reads: codes of the kept values [nPad, kPad/2] in the INT4 fragment-packed
// layout (one u32 per lane per 16 rows × 32 original columns); metadata in
// the CUTLASS reordered layout (see sparse24_mma.cu); scales and zeros f16
// [nPad, groups] with groups counted in original columns; x f16 [mPad, kPad].
// Needs groupSize % 32 = 0 (a 32-column block in one group), nPad % 32 = 0,
// kPad % 32 = 0.
#include "../launch.h"
#include "common.cuh"

namespace sparq {

__global__ void __launch_bounds__(kWarps * 32) sparse24_int4_mma_kernel(const uint32_t* __restrict__ w, const uint32_t* __restrict__ meta,
                                                                       const __half* __restrict__ scales, const __half* __restrict__ zeros, int groups,
                                                                       int groupSize, const __half* __restrict__ x, float* __restrict__ y, int m, int mPad,
                                                                       int kPad, int n, int nPad, int rowTiles, int kbPerSplit) {
  const int lane = threadIdx.x & 31, g = lane >> 2;
  const int rt = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (rt >= rowTiles) return;
  const int KB = kPad / 32;
  const int b0 = blockIdx.y * 8 * kNB;
  const int kb0 = blockIdx.z * kbPerSplit;
  const int kb1 = min(KB, kb0 + kbPerSplit);
  const int rowLo = rt * 16 + g, rowHi = rowLo + 8;
  const __half k1024 = __float2half(1024.f);
  float acc[kNB][4] = {};
#pragma unroll 4  // several weight loads in flight per warp
  for (int kb = kb0; kb < kb1; ++kb) {
    const uint32_t q = w[fragment_word(rt, kb, KB, lane)];
    const int grp = min((kb * 32) / groupSize, groups - 1);  // padding k-blocks: x is 0 there
    const __half2 sLo = __half2half2(scales[(size_t)rowLo * groups + grp]);
    const __half2 sHi = __half2half2(scales[(size_t)rowHi * groups + grp]);
    const __half2 zLo = __half2half2(__hadd(zeros[(size_t)rowLo * groups + grp], k1024));
    const __half2 zHi = __half2half2(__hadd(zeros[(size_t)rowHi * groups + grp], k1024));
    const uint32_t a[4] = {dequant_int4_pair(q, 0, sLo, zLo), dequant_int4_pair(q, 1, sHi, zHi), dequant_int4_pair(q, 2, sLo, zLo),
                           dequant_int4_pair(q, 3, sHi, zHi)};
    const uint32_t e = meta[meta_word(nPad, rt, kb, lane)];
#pragma unroll
    for (int j = 0; j < kNB; ++j) {
      if (b0 + 8 * j >= mPad) break;
      uint32_t b[4];
      load_b_32(x, kPad, b0 + 8 * j, kb * 32, lane, b);
      mma_sp_16832(acc[j], a, b, e);
    }
  }
#pragma unroll
  for (int j = 0; j < kNB; ++j)
    if (b0 + 8 * j < mPad) store_tile(y, acc[j], rt * 16, b0 + 8 * j, lane, n, m, gridDim.z > 1);
}

void launch_sparse24_int4(const Sparse24Int4Args& a, cudaStream_t st) {
  const MmaShape& s = a.s;
  if (s.m == 0 || s.n == 0) return;
  const int rowTiles = s.nPad / 16, KB = s.kPad / 32;
  MmaLaunch L;
  if (!plan_mma_launch(s, KB, a.y, st, L)) return;
  sparse24_int4_mma_kernel<<<L.grid, kWarps * 32, 0, st>>>(static_cast<const uint32_t*>(a.w), static_cast<const uint32_t*>(a.meta),
                                                         static_cast<const __half*>(a.scales), static_cast<const __half*>(a.zeros), a.groups, a.groupSize,
                                                         static_cast<const __half*>(a.x), a.y, s.m, s.mPad, s.kPad, s.n, s.nPad, rowTiles, L.perSplit);
}

}  // namespace sparq
