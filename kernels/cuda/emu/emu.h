// emu.h stands in for the CUDA toolchain when the attention kernels
// (kernels/cuda/src/attention*.cu) are compiled as host C++ with ATTN_EMU:
// it defines the CUDA keywords and built-ins they use and declares the
// emulated primitives of attention.cuh, which emu.cpp implements (a
// block's threads run as fibers on one OS thread).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <vector_types.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __launch_bounds__
#undef __shared__
#undef __align__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static
#define __align__(n) alignas(n)

struct emu_dim3 {
  unsigned x, y, z;
};
extern emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

void __syncthreads();
unsigned char* emu_dyn_smem();
#define ATTN_DYN_SMEM(name) unsigned char* name = emu_dyn_smem()

using std::max;
using std::min;

// The CUDA built-ins of the kernels outside attention (sample.cu, the
// fused small-M GEMMs): warp shuffles through the emulator's exchange, and
// atomics and cache-hinted memory operations as plain ones (a block's
// threads switch only at barriers and collectives, and blocks run one after
// another, so a read-modify-write is never interrupted).
uint64_t emu_shfl64(uint64_t v, int mode, int arg);  // mode 0: xor, 1: up, 2: index
void emu_syncwarp();
template <typename T>
inline T emu_shfl(T v, int mode, int arg) {
  static_assert(sizeof(T) <= 8, "shuffle of more than 8 bytes");
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof(T));
  u = emu_shfl64(u, mode, arg);
  T r;
  std::memcpy(&r, &u, sizeof(T));
  return r;
}
template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int m, int = 32) {
  return emu_shfl(v, 0, m);
}
template <typename T>
inline T __shfl_up_sync(unsigned, T v, unsigned d, int = 32) {
  return emu_shfl(v, 1, int(d));
}
template <typename T>
inline T __shfl_sync(unsigned, T v, int src, int = 32) {
  return emu_shfl(v, 2, src);
}
inline void __syncwarp(unsigned = 0xffffffffu) { emu_syncwarp(); }
template <typename T>
inline T atomicAdd(T* p, T v) {
  T o = *p;
  *p = o + v;
  return o;
}
template <typename T>
inline T atomicMax(T* p, T v) {
  T o = *p;
  if (v > o) *p = v;
  return o;
}
inline void __threadfence() {}
inline void __threadfence_block() {}
template <typename T>
inline T __ldg(const T* p) {
  return *p;
}
template <typename T>
inline T __ldcg(const T* p) {
  return *p;
}
template <typename T>
inline void __stcg(T* p, T v) {
  *p = v;
}
inline unsigned __float_as_uint(float f) {
  unsigned u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float __uint_as_float(unsigned u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline float __expf(float x) { return std::exp(x); }
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline float2 __half22float2(half2 v) { return float2{__half2float(v.x), __half2float(v.y)}; }
inline float2 __bfloat1622float2(__nv_bfloat162 v) {
  return float2{__bfloat162float(v.x), __bfloat162float(v.y)};
}
inline float __frcp_rn(float x) { return 1.f / x; }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }

namespace attn {

template <typename T>
struct elem;

template <>
struct elem<half> {
  static float to_float(half x) { return __half2float(x); }
  static half from_float(float x) { return __float2half_rn(x); }
  static uint32_t pack(float lo, float hi) {
    half a = __float2half_rn(lo), b = __float2half_rn(hi);
    uint16_t ua, ub;
    std::memcpy(&ua, &a, 2);
    std::memcpy(&ub, &b, 2);
    return uint32_t(ua) | uint32_t(ub) << 16;
  }
};

template <>
struct elem<__nv_bfloat16> {
  static float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
  static __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
  static uint32_t pack(float lo, float hi) {
    __nv_bfloat16 a = __float2bfloat16_rn(lo), b = __float2bfloat16_rn(hi);
    uint16_t ua, ub;
    std::memcpy(&ua, &a, 2);
    std::memcpy(&ub, &b, 2);
    return uint32_t(ua) | uint32_t(ub) << 16;
  }
};

void cp_async16(void* dst, const void* src, bool valid);
void cp_async_commit();
void emu_cp_async_wait(int n);
template <int N>
inline void cp_async_wait() {
  emu_cp_async_wait(N);
}

void ldsm_x4(uint32_t* r, const void* p);
void ldsm_x2(uint32_t* r, const void* p);
void ldsm_x4_t(uint32_t* r, const void* p);

void emu_mma(float* d, const uint32_t* a, const uint32_t* b, bool bf16);
template <typename T>
inline void mma16816(float* d, const uint32_t* a, const uint32_t* b) {
  emu_mma(d, a, b, std::is_same<T, __nv_bfloat16>::value);
}

inline float fast_exp2(float x) { return std::exp2(x); }
float shfl_xor(float v, int m);
inline int atomic_add(int* p, int v) {
  int o = *p;
  *p = o + v;
  return o;
}
inline void thread_fence() {}
inline float load_cg(const float* p) { return *p; }
inline float neg_inf() { return -INFINITY; }

}  // namespace attn
