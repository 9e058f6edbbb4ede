// Device helpers of the attention kernels (attention_decode.cu,
// attention_prefill.cu): the element types (fp16, bf16) with fp32
// arithmetic, 16-byte asynchronous copies into shared memory (cp.async),
// ldmatrix, the m16n8k16 tensor-core MMA with fp32 accumulation, warp
// reductions, the block-table lookup, and the shared-memory geometry the
// host mirrors (kernels/cuda/attention.go).
//
// Every primitive here is a compute_80 instruction, so the PTX runs on every
// card the backend accepts (Ampere, Ada, Hopper and later).
//
// Compiled with ATTN_EMU defined, the kernels build as host C++ against
// kernels/cuda/emu, which emulates these primitives (a block's threads as
// fibers) to check the kernels' index arithmetic without a GPU.
#pragma once

#ifdef ATTN_EMU
#include "emu.h"
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>
#define ATTN_DYN_SMEM(name) extern __shared__ __align__(16) unsigned char name[]
#endif

namespace attn {

constexpr int kThreads = 128;  // every attention kernel: 4 warps

// Shared-memory rows hold head_dim rounded up to 16 (the MMA's k), plus one
// 16-byte vector so that a row is an odd number of vectors long: the eight
// rows one ldmatrix phase reads then fall in distinct banks.
__device__ __forceinline__ int padded_dim(int head_dim) { return (head_dim + 15) & ~15; }
__device__ __forceinline__ int row_vecs(int head_dim) { return padded_dim(head_dim) / 8 + 1; }

// Decode tiles are 64 keys for head sizes up to 128, 32 above.
template <int DMAX>
struct DecodeGeom {
  static constexpr int kTile = DMAX <= 128 ? 64 : 32;
  static constexpr int kStages = 3;
  static constexpr int kMTiles = (DMAX / 16 + 3) / 4;  // dim m-tiles per warp in P·V
};

// Prefill tiles: 64 query rows (16 per warp) × 64 keys (32 above head size 128).
template <int DMAX>
struct PrefillGeom {
  static constexpr int kRows = 64;
  static constexpr int kKeys = DMAX <= 128 ? 64 : 32;
  static constexpr int kStages = 2;
};

// slot_of is the cache row of key position p of a sequence: its block from
// the block table, and the offset in the block (a shift for block sizes that
// are powers of two, bs_shift ≥ 0; a division otherwise).
__device__ __forceinline__ long slot_of(const int* table, int p, int block_size, int bs_shift) {
  int b = bs_shift >= 0 ? (p >> bs_shift) : p / block_size;
  return (long)table[b] * block_size + (p - b * block_size);
}

#ifndef ATTN_EMU

template <typename T>
struct elem;

template <>
struct elem<half> {
  static __device__ __forceinline__ float to_float(half x) { return __half2float(x); }
  static __device__ __forceinline__ half from_float(float x) { return __float2half_rn(x); }
  // pack puts lo in the low 16 bits, as the MMA fragments expect.
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  }
};

template <>
struct elem<__nv_bfloat16> {
  static __device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
  static __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  }
};

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// cp_async16 copies 16 bytes from global to shared memory, or writes 16
// zero bytes when valid is false (src must still be a mapped address).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
  int n = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(n)
               : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// cp_async_wait returns when at most N of this thread's groups are pending.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// ldsm_x4 loads four 8×8 b16 matrices; lane l gives the address of row l%8
// of matrix l/8, and receives in r[j] row l/4, columns 2(l%4) and 2(l%4)+1
// of matrix j. ldsm_x2 uses lanes 0-15's addresses. The _t forms transpose:
// r[j] holds rows 2(l%4) and 2(l%4)+1 of column l/4.
__device__ __forceinline__ void ldsm_x4(uint32_t* r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p))
               : "memory");
}

__device__ __forceinline__ void ldsm_x2(uint32_t* r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_addr(p))
               : "memory");
}

__device__ __forceinline__ void ldsm_x4_t(uint32_t* r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p))
               : "memory");
}

// mma16816 accumulates d += a·b for a 16×16 A (row-major fragment, 4
// registers), a 16×8 B (column fragment, 2 registers) and a 16×8 fp32 D.
// Lane l = 4g + t holds A rows g, g+8 at columns 2t, 2t+1 (+8), B columns g
// at rows 2t, 2t+1 (+8), D rows g, g+8 at columns 2t, 2t+1.
template <typename T>
__device__ __forceinline__ void mma16816(float* d, const uint32_t* a, const uint32_t* b);

template <>
__device__ __forceinline__ void mma16816<half>(float* d, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float* d, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// fast_exp2 is 2^x (ex2.approx: 2^-inf = 0).
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ float shfl_xor(float v, int m) { return __shfl_xor_sync(0xffffffffu, v, m); }

__device__ __forceinline__ int atomic_add(int* p, int v) { return atomicAdd(p, v); }

// load_cg reads through L2 only: data other CTAs wrote during this launch.
__device__ __forceinline__ float load_cg(const float* p) { return __ldcg(p); }

__device__ __forceinline__ void thread_fence() { __threadfence(); }

__device__ __forceinline__ float neg_inf() { return -__int_as_float(0x7f800000); }

#endif  // ATTN_EMU

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, shfl_xor(v, o));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += shfl_xor(v, o);
  return v;
}

}  // namespace attn
