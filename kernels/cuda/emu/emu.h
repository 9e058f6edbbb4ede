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
