// Generic decoders for weights the fused kernels do not cover (2-, 3-, 8-bit
// codes; groups that are not a multiple of 16/32; N:M other than 2:4): the
// packed weight is dequantized once, on upload, into the dense f16
// fragment-packed layout (common.cuh) and then runs on dense_f16_mma.cu.
// Reads docs/format.md §1 (LSB-first bit rows), §2 (f16 scales [rows, groups],
// zero-point codes [rows, groups] bit-packed, symmetric zero = 2^(bits−1)) and
// §4 (codes and in-group positions of the kept values). Dequantization is
// scale·(q − zero) in f32 (exact: |q − zero| < 2^8, f16 scale), rounded once
// to f16. Padding (rows ≥ rows, cols ≥ cols) is written as 0.
#include "../launch.h"
#include "common.cuh"

namespace sparq {

__device__ __forceinline__ int read_bits(const uint8_t* row, int i, int bits) {
  const int bit = i * bits;
  int word = row[bit >> 3];
  if ((bit & 7) + bits > 8) word |= row[(bit >> 3) + 1] << 8;
  return (word >> (bit & 7)) & ((1 << bits) - 1);
}

__device__ __forceinline__ float stat_scale(const DecodeArgs& a, int r, int grp, int groups) {
  return __half2float(__ushort_as_half(a.scales[(size_t)r * groups + grp]));
}

__device__ __forceinline__ float stat_zero(const DecodeArgs& a, int r, int grp, int groups) {
  if (a.sym) return (float)(1 << (a.bits - 1));
  const int zb = (groups * a.bits + 7) / 8;
  return (float)read_bits(a.zeros + (size_t)r * zb, grp, a.bits);
}

// §2: one thread per element of the padded matrix.
__global__ void decode_quant_kernel(DecodeArgs a) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (size_t)a.nPad * a.kPad) return;
  const int r = (int)(i / a.kPad), c = (int)(i % a.kPad);
  float v = 0.f;
  if (r < a.rows && c < a.cols) {
    const int groups = a.cols / a.groupSize, grp = c / a.groupSize;
    const int rb = (a.cols * a.bits + 7) / 8;
    const int q = read_bits(a.codes + (size_t)r * rb, c, a.bits);
    v = stat_scale(a, r, grp, groups) * ((float)q - stat_zero(a, r, grp, groups));
  }
  static_cast<__half*>(a.out)[fragment_offset(r, c, a.kPad)] = __float2half_rn(v);
}

// §4: one thread per kept slot; the output must be zeroed first (the
// launcher does it), the dropped positions stay 0.
__global__ void decode_nm_quant_kernel(DecodeArgs a) {
  const int L = (a.cols / a.mGroup) * a.nKeep;
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (size_t)a.rows * L) return;
  const int r = (int)(i / L), s = (int)(i % L);
  int ib = 1;
  while ((1 << ib) < a.mGroup) ++ib;
  const int groups = a.cols / a.groupSize;
  const int grp = s / ((a.groupSize / a.mGroup) * a.nKeep);
  const int q = read_bits(a.codes + (size_t)r * ((L * a.bits + 7) / 8), s, a.bits);
  const int pos = read_bits(a.indices + (size_t)r * ((L * ib + 7) / 8), s, ib);
  const int c = (s / a.nKeep) * a.mGroup + pos;
  const float v = stat_scale(a, r, grp, groups) * ((float)q - stat_zero(a, r, grp, groups));
  static_cast<__half*>(a.out)[fragment_offset(r, c, a.kPad)] = __float2half_rn(v);
}

void launch_decode_to_f16_fragments(const DecodeArgs& a, cudaStream_t st) {
  const size_t total = (size_t)a.nPad * a.kPad;
  if (total == 0) return;
  if (a.nKeep == 0) {
    decode_quant_kernel<<<(unsigned)((total + 255) / 256), 256, 0, st>>>(a);
    return;
  }
  cudaMemsetAsync(a.out, 0, total * 2, st);
  const size_t slots = (size_t)a.rows * (a.cols / a.mGroup) * a.nKeep;
  if (slots) decode_nm_quant_kernel<<<(unsigned)((slots + 255) / 256), 256, 0, st>>>(a);
}

}  // namespace sparq
