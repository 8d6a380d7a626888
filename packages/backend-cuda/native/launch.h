// Host-side launch functions of the kernels in kernels/*.cu, called by the
// N-API glue (addon.cc). Plain C++ (no CUDA syntax) so g++ can compile the glue.
// Device pointers are passed as raw addresses; every size is in elements.
// Each launcher only enqueues work on `stream`; errors surface via
// cudaGetLastError / the next synchronisation.
#pragma once
#include <cuda_runtime_api.h>
#include <stdint.h>

namespace sparq {

// Shapes shared by the tensor-core GEMMs: y[m, n] (f32) = x[m, k] · W[n, k]ᵀ,
// x already converted to f16 and zero-padded to [mPad, kPad] (mPad % 8 = 0,
// kPad % 32 = 0), W padded to nPad rows (16 dense/INT4, 32 for 2:4).
struct MmaShape {
  int m, mPad, kPad, n, nPad;
  // Split-k factor; 0 = choose from the SM count. > 1 needs y zeroed first
  // (the launcher does it) because partial sums are added with atomics.
  int splits;
};

struct DenseF16Args { MmaShape s; const void* w; const void* x; float* y; };
struct Int4Args { MmaShape s; const void* w; const void* scales; const void* zeros; int groups, groupSize; const void* x; float* y; };
struct Sparse24Args { MmaShape s; const void* w; const void* meta; const void* x; float* y; };
struct Sparse24Int4Args { MmaShape s; const void* w; const void* meta; const void* scales; const void* zeros; int groups, groupSize; const void* x; float* y; };

void launch_x_to_f16(const float* x, void* xh, int m, int k, int mPad, int kPad, cudaStream_t st);
void launch_dense_f16(const DenseF16Args& a, cudaStream_t st);
void launch_int4(const Int4Args& a, cudaStream_t st);
void launch_sparse24(const Sparse24Args& a, cudaStream_t st);
void launch_sparse24_int4(const Sparse24Int4Args& a, cudaStream_t st);

// f32-exact paths for the contract's f32 kernels.
void launch_dense_f32(const float* a, const float* b, float* y, int m, int k, int n, bool transB, cudaStream_t st);
void launch_nm_f32(const float* a, const float* values, const uint8_t* indices, float* y, int m, int k, int n, int nKeep, int mGroup, cudaStream_t st);

// Generic decoders of the packed layouts (docs/format.md §1, §2, §4) into the
// dense f16 fragment-packed layout read by launch_dense_f16.
struct DecodeArgs {
  int rows, cols, nPad, kPad, bits, groupSize, sym;
  const uint8_t* codes; const uint16_t* scales; const uint8_t* zeros;
  int nKeep, mGroup; const uint8_t* indices;  // nm-quant only (nKeep = 0: plain §2)
  void* out;
};
void launch_decode_to_f16_fragments(const DecodeArgs& a, cudaStream_t st);

// Optional model kernels (kernels/model.cu), f32 with float64 reductions.
void launch_rmsnorm(const float* x, const float* w, float* y, int m, int d, float eps, cudaStream_t st);
void launch_silu_mul(const float* g, const float* u, float* y, size_t n, cudaStream_t st);
void launch_rope(const float* x, const int* pos, const double* invFreq, float* y, int m, int width, int hd, cudaStream_t st);
// scratch: m·numHeads·t doubles. window ≤ 0: no sliding window.
void launch_attention(const float* q, const float* k, const float* v, float* out, double* scratch, int m, int t, int numHeads, int numKvHeads, int hd,
                      int qPos0, int window, cudaStream_t st);

// Device-limit probes, measured in the same run as the kernels.
void launch_probe_bandwidth(const void* buf, size_t bytes, float* sink, cudaStream_t st);
void launch_probe_mma(float* sink, int iters, int blocks, cudaStream_t st);
void launch_probe_mma_sp(float* sink, int iters, int blocks, cudaStream_t st);

// Multiprocessor count of the current device (set by addon init; used to pick split-k).
extern int g_sm_count;

}  // namespace sparq
