// N-API glue of the CUDA backend (node-addon-api). Exposes a small, typed
// surface that src/native.ts wraps:
//   init()                     → { available, reason, runtimeVersion, driverVersion, cublas, devices[] }
//   alloc(bytes) → BigInt      device address; free(ptr); memset(ptr, bytes)
//   upload(ptr, typedArray)    host → device (synchronous)
//   download(ptr, typedArray)  device → host (synchronous)
//   launch(name, args)         enqueue one kernel (names below), throws the CUDA error
//   sync()                     cudaDeviceSynchronize, throws the CUDA error
//   bench(name, args, warmup, iters) → Float64Array of per-launch ms (CUDA events)
//   layout(fn, args)           the kernels' index functions evaluated on the host (tests)
// Loading this module never touches the GPU; init() reports the CUDA error
// (e.g. cudaErrorNoDevice) instead of throwing when no usable device exists.
// cuBLAS is optional: dlopen'ed at init() for the benchmark baseline only.
#include <dlfcn.h>
#include <napi.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/layout.cuh"
#include "launch.h"

namespace sparq {
int g_sm_count = 0;
}

namespace {

using sparq::MmaShape;

std::string cudaMessage(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

void check(Napi::Env env, cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Napi::Error::New(env, std::string("CUDA ") + what + " failed: " + cudaMessage(e));
}

uint64_t toPtr(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless = true;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
}

struct Args {
  Napi::Object o;
  Napi::Env env;
  Napi::Value get(const char* k) const {
    Napi::Value v = o.Get(k);
    if (v.IsUndefined()) throw Napi::TypeError::New(env, std::string("launch argument '") + k + "' is missing");
    return v;
  }
  int i(const char* k) const { return get(k).As<Napi::Number>().Int32Value(); }
  int iOr(const char* k, int d) const { return o.Has(k) && !o.Get(k).IsUndefined() ? i(k) : d; }
  template <class T>
  T* p(const char* k) const { return reinterpret_cast<T*>(toPtr(get(k))); }
  template <class T>
  T* pOr(const char* k) const { return o.Has(k) && !o.Get(k).IsUndefined() && !o.Get(k).IsNull() ? p<T>(k) : nullptr; }
  MmaShape shape() const { return MmaShape{i("m"), i("mPad"), i("kPad"), i("n"), i("nPad"), iOr("splits", 0)}; }
};

// ---- optional cuBLAS (benchmark baseline), resolved at run time ----------
using CublasCreate = int (*)(void**);
using CublasGemmEx = int (*)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int, const void*, void*, int, int, int,
                             int);
void* g_cublas = nullptr;
CublasGemmEx g_gemmEx = nullptr;
std::string g_cublasReason = "not loaded";

void loadCublas() {
  if (g_cublas) return;
  const char* names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  void* lib = nullptr;
  for (const char* n : names)
    if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
  if (!lib) {
    g_cublasReason = std::string("libcublas not found (") + dlerror() + ")";
    return;
  }
  auto create = reinterpret_cast<CublasCreate>(dlsym(lib, "cublasCreate_v2"));
  g_gemmEx = reinterpret_cast<CublasGemmEx>(dlsym(lib, "cublasGemmEx"));
  if (!create || !g_gemmEx || create(&g_cublas) != 0) {
    g_cublasReason = "libcublas found but cublasCreate/cublasGemmEx failed";
    g_cublas = nullptr;
    return;
  }
  g_cublasReason = "";
}

// y[m, n] f32 = x[m, k] · w[n, k]ᵀ with x, w row-major f16: column-major
// cuBLAS computes yᵀ (n × m) = op_T(w as k × n) · x (k × m).
void cublasF16(const Args& a) {
  if (!g_cublas) throw Napi::Error::New(a.env, "cuBLAS unavailable: " + g_cublasReason);
  const float one = 1.f, zero = 0.f;
  const int m = a.i("m"), n = a.i("n"), k = a.i("k");
  constexpr int OP_N = 0, OP_T = 1, R_16F = 2, R_32F = 0, COMPUTE_32F = 68, GEMM_DEFAULT = -1;
  int st = g_gemmEx(g_cublas, OP_T, OP_N, n, m, k, &one, a.p<void>("w"), R_16F, k, a.p<void>("x"), R_16F, k, &zero, a.p<void>("y"), R_32F, n,
                    COMPUTE_32F, GEMM_DEFAULT);
  if (st != 0) throw Napi::Error::New(a.env, "cublasGemmEx failed with status " + std::to_string(st));
}

// ---- kernel table ---------------------------------------------------------
using Launcher = std::function<void(const Args&)>;

const std::unordered_map<std::string, Launcher>& launchers() {
  static const std::unordered_map<std::string, Launcher> table = {
      {"x_to_f16", [](const Args& a) { sparq::launch_x_to_f16(a.p<float>("x"), a.p<void>("xh"), a.i("m"), a.i("k"), a.i("mPad"), a.i("kPad"), 0); }},
      {"dense_f16", [](const Args& a) { sparq::launch_dense_f16({a.shape(), a.p<void>("w"), a.p<void>("x"), a.p<float>("y")}, 0); }},
      {"int4",
       [](const Args& a) {
         sparq::launch_int4({a.shape(), a.p<void>("w"), a.p<void>("scales"), a.p<void>("zeros"), a.i("groups"), a.i("groupSize"), a.p<void>("x"),
                             a.p<float>("y")},
                            0);
       }},
      {"sparse24", [](const Args& a) { sparq::launch_sparse24({a.shape(), a.p<void>("w"), a.p<void>("meta"), a.p<void>("x"), a.p<float>("y")}, 0); }},
      {"sparse24_int4",
       [](const Args& a) {
         sparq::launch_sparse24_int4({a.shape(), a.p<void>("w"), a.p<void>("meta"), a.p<void>("scales"), a.p<void>("zeros"), a.i("groups"), a.i("groupSize"),
                                      a.p<void>("x"), a.p<float>("y")},
                                     0);
       }},
      {"dense_f32",
       [](const Args& a) {
         sparq::launch_dense_f32(a.p<float>("a"), a.p<float>("b"), a.p<float>("y"), a.i("m"), a.i("k"), a.i("n"), a.get("transB").ToBoolean(), 0);
       }},
      {"nm_f32",
       [](const Args& a) {
         sparq::launch_nm_f32(a.p<float>("a"), a.p<float>("values"), a.p<uint8_t>("indices"), a.p<float>("y"), a.i("m"), a.i("k"), a.i("n"), a.i("nKeep"),
                              a.i("mGroup"), 0);
       }},
      {"decode_f16",
       [](const Args& a) {
         sparq::DecodeArgs d{a.i("rows"), a.i("cols"), a.i("nPad"), a.i("kPad"), a.i("bits"), a.i("groupSize"), a.i("sym"), a.p<uint8_t>("codes"),
                             a.p<uint16_t>("scales"), a.pOr<uint8_t>("zeros"), a.iOr("nKeep", 0), a.iOr("mGroup", 0), a.pOr<uint8_t>("indices"),
                             a.p<void>("out")};
         sparq::launch_decode_to_f16_fragments(d, 0);
       }},
      {"rmsnorm",
       [](const Args& a) {
         sparq::launch_rmsnorm(a.p<float>("x"), a.p<float>("w"), a.p<float>("y"), a.i("m"), a.i("d"), (float)a.get("eps").As<Napi::Number>().DoubleValue(), 0);
       }},
      {"silu_mul", [](const Args& a) { sparq::launch_silu_mul(a.p<float>("gate"), a.p<float>("up"), a.p<float>("y"), (size_t)a.get("count").As<Napi::Number>().DoubleValue(), 0); }},
      {"rope",
       [](const Args& a) { sparq::launch_rope(a.p<float>("x"), a.p<int>("positions"), a.p<double>("invFreq"), a.p<float>("y"), a.i("m"), a.i("width"), a.i("hd"), 0); }},
      {"attention",
       [](const Args& a) {
         sparq::launch_attention(a.p<float>("q"), a.p<float>("k"), a.p<float>("v"), a.p<float>("y"), a.p<double>("scratch"), a.i("m"), a.i("t"), a.i("numHeads"),
                                 a.i("numKvHeads"), a.i("hd"), a.i("qPos0"), a.iOr("window", 0), 0);
       }},
      {"probe_bw", [](const Args& a) { sparq::launch_probe_bandwidth(a.p<void>("buf"), (size_t)toPtr(a.get("bytes")), a.p<float>("sink"), 0); }},
      {"probe_mma", [](const Args& a) { sparq::launch_probe_mma(a.p<float>("sink"), a.i("iters"), a.i("blocks"), 0); }},
      {"probe_mma_sp", [](const Args& a) { sparq::launch_probe_mma_sp(a.p<float>("sink"), a.i("iters"), a.i("blocks"), 0); }},
      {"cublas_f16", cublasF16},
  };
  return table;
}

const Launcher& findLauncher(Napi::Env env, const std::string& name) {
  auto it = launchers().find(name);
  if (it == launchers().end()) throw Napi::Error::New(env, "unknown CUDA kernel '" + name + "'");
  return it->second;
}

// ---- exported functions -----------------------------------------------------
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  int rt = 0, drv = 0;
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);
  out.Set("runtimeVersion", rt);
  out.Set("driverVersion", drv);
  Napi::Array devices = Napi::Array::New(env);
  out.Set("devices", devices);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    out.Set("available", false);
    out.Set("reason", e != cudaSuccess ? cudaMessage(e) : std::string("no CUDA device"));
    out.Set("cublas", "not loaded: no device");
    return out;
  }
  int best = -1;
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    Napi::Object dev = Napi::Object::New(env);
    dev.Set("name", p.name);
    dev.Set("sm", p.major * 10 + p.minor);
    dev.Set("memory", static_cast<double>(p.totalGlobalMem));
    dev.Set("multiProcessors", p.multiProcessorCount);
    devices.Set(devices.Length(), dev);
    if (best < 0 && p.major >= 8) {
      best = d;
      sparq::g_sm_count = p.multiProcessorCount;
    }
  }
  if (best < 0) {
    out.Set("available", false);
    out.Set("reason", "no device with compute capability ≥ 8.0 (the mma.sp kernels are built for sm_80 and sm_90)");
    out.Set("cublas", "not loaded: no device");
    return out;
  }
  e = cudaSetDevice(best);
  if (e == cudaSuccess) e = cudaFree(nullptr);  // create the context now, so errors show up here
  if (e != cudaSuccess) {
    out.Set("available", false);
    out.Set("reason", cudaMessage(e));
    out.Set("cublas", "not loaded: no context");
    return out;
  }
  loadCublas();
  out.Set("available", true);
  out.Set("reason", "");
  out.Set("device", best);
  out.Set("cublas", g_cublas ? "loaded" : g_cublasReason);
  return out;
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  const double bytes = info[0].As<Napi::Number>().DoubleValue();
  void* p = nullptr;
  check(info.Env(), cudaMalloc(&p, bytes > 0 ? static_cast<size_t>(bytes) : 16), "cudaMalloc");
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  check(info.Env(), cudaFree(reinterpret_cast<void*>(toPtr(info[0]))), "cudaFree");
  return info.Env().Undefined();
}

Napi::Value Memset(const Napi::CallbackInfo& info) {
  check(info.Env(), cudaMemset(reinterpret_cast<void*>(toPtr(info[0])), 0, static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue())), "cudaMemset");
  return info.Env().Undefined();
}

Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::TypedArray t = info[1].As<Napi::TypedArray>();
  const uint8_t* src = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  if (t.ByteLength())
    check(info.Env(), cudaMemcpy(reinterpret_cast<void*>(toPtr(info[0])), src, t.ByteLength(), cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
  return info.Env().Undefined();
}

Napi::Value Download(const Napi::CallbackInfo& info) {
  Napi::TypedArray t = info[1].As<Napi::TypedArray>();
  uint8_t* dst = static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  if (t.ByteLength())
    check(info.Env(), cudaMemcpy(dst, reinterpret_cast<void*>(toPtr(info[0])), t.ByteLength(), cudaMemcpyDeviceToHost), "cudaMemcpy (download)");
  return info.Env().Undefined();
}

Napi::Value Launch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Launcher& l = findLauncher(env, info[0].As<Napi::String>().Utf8Value());
  l(Args{info[1].As<Napi::Object>(), env});
  check(env, cudaGetLastError(), "kernel launch");
  return env.Undefined();
}

Napi::Value Sync(const Napi::CallbackInfo& info) {
  check(info.Env(), cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  return info.Env().Undefined();
}

// Launches `name` warmup + iters times back to back from C++ (no JS call per
// launch), timing each launch with a pair of CUDA events; returns ms each.
Napi::Value Bench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Launcher& l = findLauncher(env, info[0].As<Napi::String>().Utf8Value());
  Args args{info[1].As<Napi::Object>(), env};
  const int warmup = info[2].As<Napi::Number>().Int32Value();
  const int iters = info[3].As<Napi::Number>().Int32Value();
  for (int i = 0; i < warmup; ++i) l(args);
  check(env, cudaDeviceSynchronize(), "warm-up");
  std::vector<cudaEvent_t> ev(2 * static_cast<size_t>(iters));
  for (auto& e : ev) check(env, cudaEventCreate(&e), "cudaEventCreate");
  for (int i = 0; i < iters; ++i) {
    cudaEventRecord(ev[2 * i], 0);
    l(args);
    cudaEventRecord(ev[2 * i + 1], 0);
  }
  check(env, cudaGetLastError(), "kernel launch");
  check(env, cudaDeviceSynchronize(), "benchmark");
  Napi::Float64Array out = Napi::Float64Array::New(env, iters);
  for (int i = 0; i < iters; ++i) {
    float ms = 0;
    cudaEventElapsedTime(&ms, ev[2 * i], ev[2 * i + 1]);
    out[i] = ms;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  return out;
}

// layout(fn, args: Float64Array) evaluates one index function of
// kernels/layout.cuh on the host for each group of arguments (arity per
// function) and returns the results; lets tests compare the kernels' own
// index arithmetic with the TypeScript packing without a GPU.
Napi::Value Layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = info[0].As<Napi::String>().Utf8Value();
  Napi::Float64Array in = info[1].As<Napi::Float64Array>();
  const std::unordered_map<std::string, int> arity = {{"fragment_offset", 3}, {"fragment_word", 4}, {"int4_pair_bits", 2},
                                                      {"meta_word", 4},       {"b_offset", 5},      {"c_position", 2}};
  auto it = arity.find(fn);
  if (it == arity.end()) throw Napi::Error::New(env, "unknown layout function '" + fn + "'");
  const size_t n = in.ElementLength() / it->second;
  Napi::Float64Array out = Napi::Float64Array::New(env, n);
  for (size_t i = 0; i < n; ++i) {
    const double* a = &in[i * it->second];
    const auto I = [&](int j) { return static_cast<int>(a[j]); };
    double r = 0;
    if (fn == "fragment_offset") r = (double)sparq::fragment_offset(I(0), I(1), I(2));
    else if (fn == "fragment_word") r = (double)sparq::fragment_word(I(0), I(1), I(2), I(3));
    else if (fn == "int4_pair_bits") r = (double)sparq::int4_pair_bits(static_cast<uint32_t>(a[0]), I(1));
    else if (fn == "meta_word") r = (double)sparq::meta_word(I(0), I(1), I(2), I(3));
    else if (fn == "b_offset") r = (double)sparq::b_offset(I(0), I(1), I(2), I(3), I(4));
    else {
      int row = 0, batch = 0;
      sparq::c_position(I(0), I(1), row, batch);
      r = row * 65536.0 + batch;
    }
    out[i] = r;
  }
  return out;
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("layout", Napi::Function::New(env, Layout));
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("alloc", Napi::Function::New(env, Alloc));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("memset", Napi::Function::New(env, Memset));
  exports.Set("upload", Napi::Function::New(env, Upload));
  exports.Set("download", Napi::Function::New(env, Download));
  exports.Set("launch", Napi::Function::New(env, Launch));
  exports.Set("sync", Napi::Function::New(env, Sync));
  exports.Set("bench", Napi::Function::New(env, Bench));
  Napi::Array names = Napi::Array::New(env);
  for (const auto& kv : launchers()) names.Set(names.Length(), kv.first);
  exports.Set("kernels", names);
  return exports;
}

}  // namespace

NODE_API_MODULE(sparq_cuda, InitModule)
