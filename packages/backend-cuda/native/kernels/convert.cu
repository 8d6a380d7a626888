// x_to_f16: activations x[m, k] f32 (row-major) → f16 [mPad, kPad] row-major,
// zero in the padding, so every mma kernel reads in bounds without guards and
// padded k columns contribute 0 whatever the (padded) weight holds there.
#include "../launch.h"
#include "common.cuh"

namespace sparq {

__global__ void x_to_f16_kernel(const float* __restrict__ x, __half* __restrict__ xh, int m, int k, int mPad, int kPad) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (size_t)mPad * kPad) return;
  int r = (int)(i / kPad), c = (int)(i % kPad);
  xh[i] = __float2half_rn(r < m && c < k ? x[(size_t)r * k + c] : 0.f);
}

void launch_x_to_f16(const float* x, void* xh, int m, int k, int mPad, int kPad, cudaStream_t st) {
  size_t total = (size_t)mPad * kPad;
  if (total == 0) return;
  x_to_f16_kernel<<<(unsigned)((total + 255) / 256), 256, 0, st>>>(x, static_cast<__half*>(xh), m, k, mPad, kPad);
}

}  // namespace sparq
