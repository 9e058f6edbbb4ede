// Shared helpers for benchtop's kernels: 16-bit storage (fp16 or bf16) with
// fp32 arithmetic, warp and block reductions.
//
// A kernel over 16-bit data is written once as a template over its storage
// type T (half or bf16) and exported twice with C names: NAME_f16 and
// NAME_bf16 (the Go wrapper picks one by the tensors' dtype).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define FULL_MASK 0xffffffffu

typedef __nv_bfloat16 bf16;
typedef __nv_bfloat162 bf162;

__device__ __forceinline__ float to_float(half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(bf16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float2 to_float2(half2 v) { return __half22float2(v); }
__device__ __forceinline__ float2 to_float2(bf162 v) { return __bfloat1622float2(v); }

// from_float<T> rounds to nearest (even) in T's precision.
template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ half from_float<half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ bf16 from_float<bf16>(float v) {
  return __float2bfloat16_rn(v);
}

// pair_of<T>::type is T's two-element vector (half2, bf162).
template <typename T>
struct pair_of;
template <>
struct pair_of<half> {
  typedef half2 type;
};
template <>
struct pair_of<bf16> {
  typedef bf162 type;
};

template <typename T>
__device__ __forceinline__ typename pair_of<T>::type from_float2(float2 v);
template <>
__device__ __forceinline__ half2 from_float2<half>(float2 v) {
  return __floats2half2_rn(v.x, v.y);
}
template <>
__device__ __forceinline__ bf162 from_float2<bf16>(float2 v) {
  return __floats2bfloat162_rn(v.x, v.y);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
  return v;
}

// block_sum: every thread gets the sum over the block (blockDim.x a multiple
// of 32, at most 1024). scratch holds 32 floats.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  int nw = blockDim.x >> 5;
  v = (lane < nw) ? scratch[lane] : 0.f;
  v = warp_sum(v);
  return v;
}
