// Device helpers of the small-M GEMMs (gemv_simt.cu, gemv_mma.cu): element
// types, 16-byte loads, the tensor-core instruction, and the tile finish that
// every kernel of the family shares (split-K fix-up, fused epilogue, fused
// greedy argmax). Kept apart from common.cuh so the kernels of other concerns
// don't change when these do.
//
// The problem: out[m, n] = Σ_k x[m, k]·w[n, k] for x [M, K] and w [N, K], both
// row-major (Hugging Face's Linear layout), M ≤ 64. A block computes a tile
// of TR consecutive output columns n for every token m, sums it in shared
// memory as acc[m·TR + r] (fp32) and hands it to gemv_finish.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#define GEMV_FULL_MASK 0xffffffffu

// What gemv_finish writes (the out_kind kernel argument).
#define GEMV_OUT_T 0       // out is T [M, N]
#define GEMV_OUT_F32 1     // out is float [M, N]
#define GEMV_OUT_ARGMAX 2  // out is uint64 [M]: atomicMax of gemv_argmax_key

// Activations (the act kernel argument; kernels.Act on the Go side).
#define GEMV_ACT_NONE 0
#define GEMV_ACT_RELU 1

typedef __nv_bfloat16 gemv_bf16;

// GemvArgs are a launch's arguments, the same for every kernel of the family.
// split_len is how many K units (8 elements for SIMT, 64 for MMA) one
// blockIdx.z slice covers; ws and counters are the split-K workspace.
template <typename T>
struct GemvArgs {
  const T* x;
  const T* w;
  void* out;
  const T* bias;
  const T* residual;
  float* ws;
  unsigned* counters;
  int M, N, K, act, out_kind, split_len;
};

#define GEMV_PARAMS(T)                                                                       \
  const T *x, const T *w, void *out, const T *bias, const T *residual, float *ws,            \
      unsigned *counters, int M, int N, int K, int act, int out_kind, int split_len
#define GEMV_ARGS {x, w, out, bias, residual, ws, counters, M, N, K, act, out_kind, split_len}

// Two packed elements (low half first in memory) widened to fp32.
template <typename T>
__device__ __forceinline__ float2 gemv_unpack2(uint32_t u);
template <>
__device__ __forceinline__ float2 gemv_unpack2<__half>(uint32_t u) {
  __half2 h = *reinterpret_cast<__half2*>(&u);
  return __half22float2(h);
}
template <>
__device__ __forceinline__ float2 gemv_unpack2<gemv_bf16>(uint32_t u) {
  return make_float2(__uint_as_float(u << 16), __uint_as_float(u & 0xffff0000u));
}

template <typename T>
__device__ __forceinline__ float gemv_to_f(T v);
template <>
__device__ __forceinline__ float gemv_to_f<__half>(__half v) { return __half2float(v); }
template <>
__device__ __forceinline__ float gemv_to_f<gemv_bf16>(gemv_bf16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T gemv_from_f(float v);
template <>
__device__ __forceinline__ __half gemv_from_f<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ gemv_bf16 gemv_from_f<gemv_bf16>(float v) { return __float2bfloat16_rn(v); }

// Weights are read once per call: don't let them evict x from L1.
__device__ __forceinline__ uint4 gemv_ld_stream(const void* p) {
#ifdef ATTN_EMU
  return *reinterpret_cast<const uint4*>(p);
#else
  uint4 v;
  asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
      : "l"(p));
  return v;
#endif
}

// Activations are read by every block: keep them in L1.
__device__ __forceinline__ uint4 gemv_ld_keep(const void* p) {
  return __ldg(reinterpret_cast<const uint4*>(p));
}

// acc + the dot product of two 16-byte vectors of 8 elements each.
template <typename T>
__device__ __forceinline__ float gemv_dot8(uint4 a, uint4 b, float acc) {
  float2 x, y;
  x = gemv_unpack2<T>(a.x), y = gemv_unpack2<T>(b.x);
  acc = fmaf(x.x, y.x, acc), acc = fmaf(x.y, y.y, acc);
  x = gemv_unpack2<T>(a.y), y = gemv_unpack2<T>(b.y);
  acc = fmaf(x.x, y.x, acc), acc = fmaf(x.y, y.y, acc);
  x = gemv_unpack2<T>(a.z), y = gemv_unpack2<T>(b.z);
  acc = fmaf(x.x, y.x, acc), acc = fmaf(x.y, y.y, acc);
  x = gemv_unpack2<T>(a.w), y = gemv_unpack2<T>(b.w);
  acc = fmaf(x.x, y.x, acc), acc = fmaf(x.y, y.y, acc);
  return acc;
}

__device__ __forceinline__ float gemv_warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(GEMV_FULL_MASK, v, o);
  return v;
}

#ifndef ATTN_EMU  // the emulator runs the CUDA-core kernels only
// mma.m16n8k16 with fp32 accumulation: d += A·B for A 16×16 (four packed
// registers), B 16×8 (two); register layout as in the PTX ISA's "Matrix
// Fragments for mma.m16n8k16 with floating point type".
template <typename T>
__device__ __forceinline__ void gemv_mma16816(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t a2,
                                              uint32_t a3, uint32_t b0, uint32_t b1);
template <>
__device__ __forceinline__ void gemv_mma16816<__half>(float (&d)[4], uint32_t a0, uint32_t a1,
                                                      uint32_t a2, uint32_t a3, uint32_t b0,
                                                      uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void gemv_mma16816<gemv_bf16>(float (&d)[4], uint32_t a0, uint32_t a1,
                                                         uint32_t a2, uint32_t a3, uint32_t b0,
                                                         uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

#endif

// gemv_argmax_key orders (value, index) pairs as unsigned integers: larger
// values first, then lower indices, so one atomicMax keeps the greedy token
// with kernels.Argmax's tie rule. The host decodes the index as
// 0xffffffff − the low word. 0 is below every key (the buffer's reset value).
__device__ __forceinline__ unsigned long long gemv_argmax_key(float v, int n) {
  unsigned u = __float_as_uint(v);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ((unsigned long long)u << 32) | (unsigned long long)(0xffffffffu - (unsigned)n);
}

__device__ __forceinline__ unsigned long long gemv_umax(unsigned long long a, unsigned long long b) {
  return a > b ? a : b;
}

// GemvKV makes gemv_finish store, besides out, each token m's columns
// [q_width, q_width + 2·kv_width) — its K and V of a fused QKV row — at slot
// slots[m] of kc and vc [num_slots, kv_width] (a negative slot: padding, not
// stored), as qkv_prep does when the bias is its only step.
template <typename T>
struct GemvKV {
  T* kc;
  T* vc;
  const int* slots;
  int q_width, kv_width;
};

// GemvPre holds the epilogue operands of this thread's output (i ==
// threadIdx.x), loaded when the kernel started rather than after its sums,
// so their memory latency hides behind the weight stream: used when every
// output of the tile is one thread's and there is no split over K.
struct GemvPre {
  bool on;
  float bias, residual;
  int slot;
};

// gemv_finish takes the block's finished sums acc[m·TR + r] (m < M, column
// n0 + r) and writes the epilogue: out = act(acc + bias) + residual as T or
// fp32 (and, with kv, the K and V columns into the cache), or the greedy
// argmax key of each token. With a grid split over K
// (gridDim.z > 1) each block first parks its partial tile in ws; the last
// block of the tile to arrive (a counter per tile) sums the partials in z
// order — deterministic — applies the epilogue, and resets the counter so
// the next launch (or graph replay) starts from zero. Every thread of the
// block must call it.
template <typename T, int TR>
__device__ __forceinline__ void gemv_finish(float* acc, int n0, const GemvArgs<T>& a,
                                            GemvKV<T> kv = GemvKV<T>{nullptr, nullptr, nullptr, 0, 0},
                                            GemvPre pre = GemvPre{false, 0.f, 0.f, -1}) {
  const int elems = a.M * TR;
  if (gridDim.z > 1) {
    __shared__ int is_last;
    float* part = a.ws + (size_t)blockIdx.x * gridDim.z * elems;
    for (int i = threadIdx.x; i < elems; i += blockDim.x)
      __stcg(part + (size_t)blockIdx.z * elems + i, acc[i]);
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) is_last = atomicAdd(a.counters + blockIdx.x, 1u) == gridDim.z - 1;
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    for (int i = threadIdx.x; i < elems; i += blockDim.x) {
      float s = 0.f;
      for (int z = 0; z < (int)gridDim.z; z++) s += __ldcg(part + (size_t)z * elems + i);
      acc[i] = s;
    }
    if (threadIdx.x == 0) a.counters[blockIdx.x] = 0;
    __syncthreads();
  }
  if (a.out_kind == GEMV_OUT_ARGMAX) {
    const int lane = threadIdx.x & 31, nw = blockDim.x >> 5;
    for (int m = threadIdx.x >> 5; m < a.M; m += nw) {
      unsigned long long best = 0;
      for (int r = lane; r < TR; r += 32) {
        const int n = n0 + r;
        if (n < a.N) {
          float v = acc[m * TR + r];
          if (a.bias) v += gemv_to_f(a.bias[n]);
          best = gemv_umax(best, gemv_argmax_key(v, n));
        }
      }
      for (int o = 16; o > 0; o >>= 1) best = gemv_umax(best, __shfl_xor_sync(GEMV_FULL_MASK, best, o));
      if (lane == 0 && best != 0) atomicMax(reinterpret_cast<unsigned long long*>(a.out) + m, best);
    }
    return;
  }
  for (int i = threadIdx.x; i < elems; i += blockDim.x) {
    const int m = i / TR, r = i - m * TR, n = n0 + r;
    if (n >= a.N) continue;
    const bool p = pre.on;  // then i == threadIdx.x
    float v = acc[i];
    if (p)
      v += pre.bias;
    else if (a.bias)
      v += gemv_to_f(a.bias[n]);
    if (a.act == GEMV_ACT_RELU) v = fmaxf(v, 0.f);
    const size_t o = (size_t)m * a.N + n;
    if (p)
      v += pre.residual;
    else if (a.residual)
      v += gemv_to_f(a.residual[o]);
    if (a.out_kind == GEMV_OUT_F32) {
      reinterpret_cast<float*>(a.out)[o] = v;
      continue;
    }
    const T tv = gemv_from_f<T>(v);
    reinterpret_cast<T*>(a.out)[o] = tv;
    if (kv.slots && n >= kv.q_width) {
      const int slot = p ? pre.slot : kv.slots[m];
      int c = n - kv.q_width;
      if (slot >= 0 && c < 2 * kv.kv_width) {
        T* dst = c < kv.kv_width ? kv.kc : kv.vc;
        if (c >= kv.kv_width) c -= kv.kv_width;
        dst[(size_t)slot * kv.kv_width + c] = tv;
      }
    }
  }
}
