// gemv_mma: the skinny GEMM on tensor cores for M ≤ 64 (mma.m16n8k16, fp32
// accumulation). out[m, n] = act(Σ_k x[m, k]·w[n, k] + bias[n]) +
// residual[m, n], or the fp32 product, or the greedy argmax of each row
// (gemv.cuh, gemv_finish). T is fp16 or bf16.
// Shapes: x [M, K], w [N, K] (row-major, Hugging Face's Linear layout),
// out [M, N], M ≤ 8·MT. Aligned entry points (16-byte loads) need K a
// multiple of 8 and x, w 16-byte aligned; the _u ones load element by
// element and take any K.
// The weights are the MMA's A operand (16 rows n per tile), the tokens its B
// operand (8 tokens m per tile, zero past M), so outᵀ = w·xᵀ comes out of the
// accumulators. K is walked in chunks of 64: lane (g = lane/4, t = lane%4)
// loads elements [8t, 8t+8) and [32+8t, 40+8t) of the chunk from weight rows
// g and g+8 and from token g — 16-byte loads, each instruction reading 64
// contiguous bytes of 8 rows, a full 128-byte line per row and chunk. The
// lane's 32-bit words 2s and 2s+1 feed the k16 step s as the fragment's
// "k 2t..2t+1" and "k 2t+8..2t+9" registers: a permutation of k inside the
// chunk, the same for A and B, so the sum is unchanged (PTX ISA, "Matrix
// Fragments for mma.m16n8k16").
// Launch: grid (ceil(N / (16·RT)), 1, S), block 32·W threads (W ≤ 8). A
// block owns RT 16-row tiles; its warps stride over the chunks of its K
// slice (blockIdx.z, split_len chunks), add their accumulators into shared
// memory in warp order, and gemv_finish writes the epilogue (the last block
// of a tile does when S > 1).
// Entry points gemv_mma_{f16,bf16}_t{MT}_r{RT} (MT ∈ {1, 2, 4, 8} token
// tiles, RT ∈ {1, 2}) and gemv_mma_{f16,bf16}_t8_r1_u (any M ≤ 64).
// Reference: kernels/cpu Backend.Linear / LinearEpilogue / ArgmaxLinear;
// TestGemvVariants (relative error ≤ 2e-3 fp16, 8e-3 bf16), TestGemvEpilogues.
#include "gemv.cuh"

// gemv_load16 loads elements [klo, klo+8) and [khi, khi+8) of row (zero
// past K or when !ok) as 8 packed words.
template <typename T, bool VEC, bool STREAM>
__device__ __forceinline__ void gemv_load16(uint32_t (&v)[8], const T* row, int klo, int khi, int K, bool ok) {
  if (VEC) {
    uint4 lo = make_uint4(0, 0, 0, 0), hi = make_uint4(0, 0, 0, 0);
    if (ok && klo + 8 <= K) lo = STREAM ? gemv_ld_stream(row + klo) : gemv_ld_keep(row + klo);
    if (ok && khi + 8 <= K) hi = STREAM ? gemv_ld_stream(row + khi) : gemv_ld_keep(row + khi);
    v[0] = lo.x, v[1] = lo.y, v[2] = lo.z, v[3] = lo.w;
    v[4] = hi.x, v[5] = hi.y, v[6] = hi.z, v[7] = hi.w;
  } else {
    const unsigned short* p = reinterpret_cast<const unsigned short*>(row);
#pragma unroll
    for (int i = 0; i < 8; i++) {
      const int e = (i < 4 ? klo : khi) + 2 * (i & 3);
      const uint32_t lo = (ok && e < K) ? __ldg(p + e) : 0u;
      const uint32_t hi = (ok && e + 1 < K) ? __ldg(p + e + 1) : 0u;
      v[i] = lo | (hi << 16);
    }
  }
}

template <typename T, int MT, int RT, bool VEC>
__device__ __forceinline__ void gemv_mma(const GemvArgs<T>& a) {
  constexpr int TR = 16 * RT, TOK = 8 * MT;
  __shared__ float acc_s[TOK * TR];  // [m][r]
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int n0 = blockIdx.x * TR;
  const int nchunks = (a.K + 63) >> 6;
  const int c0 = blockIdx.z * a.split_len, c1 = min(c0 + a.split_len, nchunks);

  const T* wrow[RT][2];
  bool wok[RT][2];
#pragma unroll
  for (int rt = 0; rt < RT; rt++)
#pragma unroll
    for (int h = 0; h < 2; h++) {
      const int n = n0 + rt * 16 + h * 8 + g;
      wok[rt][h] = n < a.N;
      wrow[rt][h] = a.w + (size_t)(wok[rt][h] ? n : 0) * a.K;
    }
  const T* xrow[MT];
  bool xok[MT];
#pragma unroll
  for (int mt = 0; mt < MT; mt++) {
    const int m = mt * 8 + g;
    xok[mt] = m < a.M;
    xrow[mt] = a.x + (size_t)(xok[mt] ? m : 0) * a.K;
  }
  float acc[RT][MT][4];
#pragma unroll
  for (int rt = 0; rt < RT; rt++)
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
      for (int i = 0; i < 4; i++) acc[rt][mt][i] = 0.f;

#pragma unroll(MT * RT <= 2 ? 2 : 1)
  for (int c = c0 + warp; c < c1; c += nw) {
    const int klo = c * 64 + 8 * t, khi = klo + 32;
    uint32_t wa[RT][2][8], xb[MT][8];
#pragma unroll
    for (int rt = 0; rt < RT; rt++)
#pragma unroll
      for (int h = 0; h < 2; h++) gemv_load16<T, VEC, true>(wa[rt][h], wrow[rt][h], klo, khi, a.K, wok[rt][h]);
#pragma unroll
    for (int mt = 0; mt < MT; mt++) gemv_load16<T, VEC, false>(xb[mt], xrow[mt], klo, khi, a.K, xok[mt]);
#pragma unroll
    for (int s = 0; s < 4; s++)
#pragma unroll
      for (int rt = 0; rt < RT; rt++)
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
          gemv_mma16816<T>(acc[rt][mt], wa[rt][0][2 * s], wa[rt][1][2 * s], wa[rt][0][2 * s + 1],
                           wa[rt][1][2 * s + 1], xb[mt][2 * s], xb[mt][2 * s + 1]);
  }

  // Accumulator i of a lane is (row g + 8·(i/2), token 2t + i%2) of its tile.
  for (int wv = 0; wv < nw; wv++) {
    if (warp == wv) {
#pragma unroll
      for (int rt = 0; rt < RT; rt++)
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
          float* p = acc_s + (mt * 8 + 2 * t) * TR + rt * 16 + g;
          if (wv == 0) {
            p[0] = acc[rt][mt][0], p[TR] = acc[rt][mt][1];
            p[8] = acc[rt][mt][2], p[TR + 8] = acc[rt][mt][3];
          } else {
            p[0] += acc[rt][mt][0], p[TR] += acc[rt][mt][1];
            p[8] += acc[rt][mt][2], p[TR + 8] += acc[rt][mt][3];
          }
        }
    }
    __syncthreads();
  }
  gemv_finish<T, TR>(acc_s, n0, a);
}

#define GEMV_MMA(TN, T, MT, RT, VEC, SUFFIX)                                                        \
  extern "C" __global__ void __launch_bounds__(256) gemv_mma_##TN##_t##MT##_r##RT##SUFFIX(GEMV_PARAMS(T)) { \
    const GemvArgs<T> a = GEMV_ARGS;                                                              \
    gemv_mma<T, MT, RT, VEC>(a);                                                                  \
  }
#define GEMV_MMA_T(TN, T, MT) GEMV_MMA(TN, T, MT, 1, true, ) GEMV_MMA(TN, T, MT, 2, true, )
#define GEMV_MMA_ALL(TN, T)                                                                    \
  GEMV_MMA_T(TN, T, 1) GEMV_MMA_T(TN, T, 2) GEMV_MMA_T(TN, T, 4) GEMV_MMA_T(TN, T, 8)         \
  GEMV_MMA(TN, T, 8, 1, false, _u)

GEMV_MMA_ALL(f16, __half)
GEMV_MMA_ALL(bf16, gemv_bf16)
