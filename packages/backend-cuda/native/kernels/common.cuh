// Shared device helpers: the tensor-core instructions (inline PTX), the
// fragment-packed weight layout every mma kernel reads, and INT4 register
// dequantization.
//
// Orientation of every mma kernel: the WEIGHT is the A operand (16 output
// features × 16 or 32 k) and the ACTIVATIONS are the B operand (k × 8 batch
// rows, ".col", i.e. an activation row is k-contiguous). The 16×8 f32 result
// tile is (features × batch) and is written transposed into y[batch, features].
// Putting the weight in A lets batch 1 pad to 8 rather than 16, and is what
// mma.sp requires (only A can be sparse).
//
// Fragment-packed layout (host side: src/packing/fragments.ts, which also has
// the exact emulation of these reads): the weight [rowsPad, kPad] is cut into
// 16×16 tiles (rt, kt), stored tile by tile (kt fastest), and inside a tile
// lane L = 4·g + t holds the 8 values of its m16n8k16 A fragment (PTX ISA,
// "Matrix fragments for mma.m16n8k16", .f16 A):
//   reg 0: (row g,   k 2t, 2t+1)   reg 1: (row g+8, k 2t, 2t+1)
//   reg 2: (row g,   k 2t+8, 2t+9) reg 3: (row g+8, k 2t+8, 2t+9)
// f16 weights: 4 u32 per lane (one 16-byte load).  INT4 weights: one u32 per
// lane, nibble (reg + 4·h) holding element h of reg (so a 0x000f000f mask
// shifted by 4·reg extracts one f16x2 pair).
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>

#include "layout.cuh"
#include "../launch.h"

namespace sparq {

// D = A·B + D for one m16n8k16 f16 → f32 tile.
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// D = A·B + D for one sparse m16n8k32 f16 → f32 tile. `a` is the compressed
// 16×16 A fragment (same register layout as dense m16n8k16 A), `b` the 32×8 B
// fragment, `e` the metadata register (.sp::ordered_metadata: the two
// positions of a chunk are increasing, as §3 guarantees); sparsity selector 0: lanes with
// t ∈ {0, 1} supply the metadata (see sparse24_mma.cu).
__device__ __forceinline__ void mma_sp_16832(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4], uint32_t e) {
  asm volatile(
      "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9,%10,%11}, {%0,%1,%2,%3}, %12, 0x0;\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e));
}

// One f16x2 of INT4 codes from a fragment word: nibbles `reg` (low half) and
// `reg + 4` (high half), dequantized as scale·(q − zero) in f16. The OR with
// 0x6400 makes the f16 value 1024 + q exactly (Marlin's trick: no int→float
// conversion instruction), then (1024 + q) − (1024 + zero) is exact.
__device__ __forceinline__ uint32_t dequant_int4_pair(uint32_t word, int reg, __half2 scale, __half2 zero1024) {
  uint32_t bits = int4_pair_bits(word, reg) | 0x64006400u;
  __half2 v = *reinterpret_cast<__half2*>(&bits);
  __half2 r = __hmul2(__hsub2(v, zero1024), scale);
  return *reinterpret_cast<uint32_t*>(&r);
}

// Accumulates a 16×8 f32 tile into y[batch, n] (row-major, ld = n) with
// atomics, so that split-k partial sums and k-slices can be added in any order.
__device__ __forceinline__ void store_tile_atomic(float* y, const float (&d)[4], int row0, int b0, int lane, int n, int m) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    int row, batch;
    c_position(lane, i, row, batch);
    if (row0 + row < n && b0 + batch < m) atomicAdd(&y[(size_t)(b0 + batch) * n + row0 + row], d[i]);
  }
}

// B fragment (16 k × 8 batch, .col) of m16n8k16 from f16 activations
// x[mPad, kPad] row-major: lane (g, t) holds x[b0+g][k0+2t..2t+1] and
// x[b0+g][k0+2t+8..+9]. Padding guarantees these reads are in bounds.
__device__ __forceinline__ void load_b_16(const __half* x, int kPad, int b0, int k0, int lane, uint32_t& b0r, uint32_t& b1r) {
  b0r = *reinterpret_cast<const uint32_t*>(x + b_offset(kPad, b0, k0, lane, 0));
  b1r = *reinterpret_cast<const uint32_t*>(x + b_offset(kPad, b0, k0, lane, 1));
}

}  // namespace sparq

namespace sparq {

// Warps per block of the mma kernels (each warp owns one 16-row weight tile).
constexpr int kWarps = 4;
// n8 batch tiles per warp: one A fragment feeds up to kNB mma per k step.
constexpr int kNB = 4;

// Split-k factor: enough blocks to fill every SM about 4× (batch-1 GEMV has
// few row tiles per SM otherwise), each split keeping ≥ 8 k-tiles.
inline int choose_splits(int requested, int blocks, int kTiles, int smCount) {
  if (requested > 0) return requested < kTiles ? requested : (kTiles > 0 ? kTiles : 1);
  int want = (4 * (smCount > 0 ? smCount : 108) + blocks - 1) / blocks;
  int maxSplits = kTiles / 8 > 0 ? kTiles / 8 : 1;
  if (want > maxSplits) want = maxSplits;
  return want < 1 ? 1 : want;
}

// Launch geometry of the mma kernels: blocks of kWarps row tiles × kNB·8 batch
// rows, and grid.z split-k slices of `perSplit` k steps each. Zeroes y when
// there is nothing to accumulate (returns false) or when split-k partial sums
// will be added into it with atomics.
struct MmaLaunch {
  dim3 grid;
  int perSplit;
};
inline bool plan_mma_launch(const MmaShape& s, int kSteps, float* y, cudaStream_t st, MmaLaunch& out) {
  if (kSteps == 0) { cudaMemsetAsync(y, 0, sizeof(float) * (size_t)s.m * s.n, st); return false; }
  const int rowTiles = s.nPad / 16;
  out.grid = dim3((rowTiles + kWarps - 1) / kWarps, (s.mPad + 8 * kNB - 1) / (8 * kNB), 1);
  const int splits = choose_splits(s.splits, out.grid.x * out.grid.y, kSteps, g_sm_count);
  out.perSplit = (kSteps + splits - 1) / splits;
  out.grid.z = (kSteps + out.perSplit - 1) / out.perSplit;
  if (out.grid.z > 1) cudaMemsetAsync(y, 0, sizeof(float) * (size_t)s.m * s.n, st);
  return true;
}

// Writes a 16×8 tile: plain stores when this warp is the only writer (one
// split), atomics when split-k partial sums meet in y.
__device__ __forceinline__ void store_tile(float* y, const float (&d)[4], int row0, int b0, int lane, int n, int m, bool atomic) {
  if (atomic) { store_tile_atomic(y, d, row0, b0, lane, n, m); return; }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    int row, batch;
    c_position(lane, i, row, batch);
    if (row0 + row < n && b0 + batch < m) y[(size_t)(b0 + batch) * n + row0 + row] = d[i];
  }
}

}  // namespace sparq

namespace sparq {

// B fragment (32 k × 8 batch) of m16n8k32: register j holds x[b0+g][k0+2t+8j .. +1].
__device__ __forceinline__ void load_b_32(const __half* x, int kPad, int b0, int k0, int lane, uint32_t (&b)[4]) {
#pragma unroll
  for (int j = 0; j < 4; ++j) b[j] = *reinterpret_cast<const uint32_t*>(x + b_offset(kPad, b0, k0, lane, j));
}

}  // namespace sparq
