// 2:4 sparse GEMM/GEMV on sparse tensor cores: y[m, n] = x[m, k] · Wᵀ, W 2:4
// sparse along k, with mma.sp.sync.m16n8k32 (f16 inputs, f32 accumulation).
// Reads:
//  - the kept values, [nPad, kPad/2] f16, in the dense f16 fragment-packed
//    layout (common.cuh) applied to the compressed matrix: one 16×16
//    compressed tile = 16 rows × 32 original columns = one mma.sp A fragment;
//  - the metadata in the CUTLASS reordered int16 layout produced by
//    @sparq/format's toNvidia2to4 (docs/format.md §9), read as u32 words:
//    word (kb, dr) = u32 index kb·nPad + dr holds, for the 32 columns of
//    block kb, {low 16 bits: row r, high 16 bits: row r + 8} where within a
//    32-row block dr = 4·(r % 8) + 2·half + c16 (half = which 16-row tile,
//    c16 = which 16 of the 32 columns). With sparsity selector 0 the lanes
//    with t = lane % 4 ∈ {0, 1} supply metadata: lane (g, t) gives rows g and
//    g + 8 of its tile for columns [16t, 16t + 16) — PTX ISA "sparse mma
//    metadata" for m16n8k32 .f16. Each nibble is idx0 | idx1 << 2.
//  - x as f16 [mPad, kPad].
// Needs nPad % 32 = 0 and kPad % 32 = 0 (the host pads, see src/packing).
#include "../launch.h"
#include "common.cuh"

namespace sparq {


__global__ void __launch_bounds__(kWarps * 32) sparse24_mma_kernel(const uint4* __restrict__ w, const uint32_t* __restrict__ meta, const __half* __restrict__ x,
                                                                  float* __restrict__ y, int m, int mPad, int kPad, int n, int nPad, int rowTiles,
                                                                  int kbPerSplit) {
  const int lane = threadIdx.x & 31;
  const int rt = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (rt >= rowTiles) return;
  const int KB = kPad / 32;
  const int b0 = blockIdx.y * 8 * kNB;
  const int kb0 = blockIdx.z * kbPerSplit;
  const int kb1 = min(KB, kb0 + kbPerSplit);
  float acc[kNB][4] = {};
#pragma unroll 4  // several weight loads in flight per warp
  for (int kb = kb0; kb < kb1; ++kb) {
    const uint4 v = w[fragment_word(rt, kb, KB, lane)];
    const uint32_t a[4] = {v.x, v.y, v.z, v.w};
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

void launch_sparse24(const Sparse24Args& a, cudaStream_t st) {
  const MmaShape& s = a.s;
  if (s.m == 0 || s.n == 0) return;
  const int rowTiles = s.nPad / 16, KB = s.kPad / 32;
  MmaLaunch L;
  if (!plan_mma_launch(s, KB, a.y, st, L)) return;
  sparse24_mma_kernel<<<L.grid, kWarps * 32, 0, st>>>(static_cast<const uint4*>(a.w), static_cast<const uint32_t*>(a.meta), static_cast<const __half*>(a.x), a.y,
                                                    s.m, s.mPad, s.kPad, s.n, s.nPad, rowTiles, L.perSplit);
}

}  // namespace sparq
