// The index arithmetic of the tensor-core kernels, as __host__ __device__
// functions: the kernels call them on the GPU, and the addon's `layout()`
// export evaluates the very same functions on the host so that
// src/layout.test.ts can check them against the TypeScript packing and its
// emulation (src/packing/*.ts) without a GPU.
#pragma once
#include <stddef.h>
#include <stdint.h>
#if !defined(__CUDACC__) && !defined(__host__)
#define __host__
#define __device__
#endif

namespace sparq {

// Half offset of element (r, c) of a [nPad, kPad] weight in the f16 fragment
// layout (tile (r/16, c/16), kt fastest; lane 4·(r%8) + (c%8)/2; register
// (r%16)/8 + 2·((c%16)/8); element c%2).
__host__ __device__ inline size_t fragment_offset(int r, int c, int kPad) {
  const int rt = r >> 4, kt = c >> 4, rr = r & 15, cc = c & 15;
  const int lane = (rr & 7) * 4 + ((cc & 7) >> 1);
  const int reg = (rr >> 3) + 2 * (cc >> 3);
  return (((size_t)rt * (kPad >> 4) + kt) * 32 + lane) * 8 + reg * 2 + (cc & 1);
}

// Index of the fragment word (u32 for INT4, uint4 for f16) of lane `lane` in
// tile (rt, kt) of a weight with KT k-tiles.
__host__ __device__ inline size_t fragment_word(int rt, int kt, int KT, int lane) { return ((size_t)rt * KT + kt) * 32 + lane; }

// The two 4-bit codes of INT4 fragment register `reg`: nibble reg in bits
// 0–3 and nibble reg + 4 in bits 16–19 (an f16x2 pair once OR-ed with 0x6400).
__host__ __device__ inline uint32_t int4_pair_bits(uint32_t word, int reg) { return (word >> (4 * reg)) & 0x000f000fu; }

// u32 metadata word of lane (g, t) for 16-row tile rt and 32-column block kb,
// in the CUTLASS reordered layout viewed as u32 [kPad/32][nPad]; lanes with
// t ∈ {2, 3} (ignored by sparsity selector 0) read their t & 1 neighbour's word.
__host__ __device__ inline size_t meta_word(int nPad, int rt, int kb, int lane) {
  const int g = lane >> 2, t = lane & 1;
  return (size_t)kb * nPad + (size_t)(rt >> 1) * 32 + 4 * g + 2 * (rt & 1) + t;
}

// Half offset in x [mPad, kPad] of the first element of B register j of lane
// (g, t) for batch tile b0 and k offset k0: x[b0 + g][k0 + 2t + 8j] (and the
// next half). m16n8k16 uses j = 0, 1; m16n8k32 j = 0…3.
__host__ __device__ inline size_t b_offset(int kPad, int b0, int k0, int lane, int j) {
  return (size_t)(b0 + (lane >> 2)) * kPad + k0 + 2 * (lane & 3) + 8 * j;
}

// Where element d[i] (i = 0…3) of lane `lane`'s 16×8 accumulator goes:
// weight row row0 + g (+8 for i ≥ 2), batch row b0 + 2t + (i & 1).
__host__ __device__ inline void c_position(int lane, int i, int& row, int& batch) {
  row = (lane >> 2) + 8 * (i >> 1);
  batch = 2 * (lane & 3) + (i & 1);
}

}  // namespace sparq
