// gemv_fused: gemv_simt's weight-streaming GEMV with a fused prologue, so a
// decoder layer's norms and activations ride on its GEMMs:
//   out[m, n] = act(Σ_k p(x)[m, k]·w[n, k] + bias[n]) + residual[m, n]
// (or the fp32 product, or the greedy argmax of each row: gemv.cuh,
// gemv_finish), where p is, per the pro argument,
//   GEMV_PRO_LAYERNORM: (x − mean) / sqrt(var + eps) · nw + nb over each row;
//   GEMV_PRO_RMSNORM:   x / sqrt(mean(x²) + eps) · nw;
//   GEMV_PRO_SWIGLU:    silu(x[m, k]) · x[m, K + k] for x [M, 2K] = [gate | up];
//   0:                  x itself.
// Each block computes p of the M rows itself (statistics in fp32, as
// layernorm.cu, rmsnorm.cu and swiglu.cu do) into shared memory, rounded to
// T as those kernels store it, then streams its weight rows against the
// staged rows. The epilogue's residual may alias out (h += ...): each output
// element is read and written by one thread.
// With slots not null, the epilogue also stores each token's K and V columns
// of a fused QKV row [q_width | kv_width | kv_width] at its slot of kc and vc
// (gemv.cuh, GemvKV): OPT's bias + KV write without a qkv_prep launch.
// Shapes: x [M, K] (SwiGLU [M, 2K]), w [N, K] (Hugging Face's Linear
// layout), out [M, N]; M ≤ MT, K a multiple of 8, x and w 16-byte aligned;
// nw, nb [K] (nb LayerNorm only; nw null: no affine).
// Launch: grid (ceil(N / R), 1, S), block 32–256 threads, dynamic shared
// memory MT·K·sizeof(T) bytes. A split over K (S > 1) is finished by the
// last block of each tile (gemv_finish); every block stages whole rows.
// Entry points gemv_fused_{f16,bf16}_m{MT}_r{R}, MT ∈ {1, 2, 4}, R ∈ {1, 2, 4}.
// Reference: kernels/cpu Backend.FusedLinear, FusedQKV and FusedArgmax (the CPU's
// norm or SwiGLU, then LinearEpilogue or ArgmaxLinear); TestFusedLinear
// (relative error ≤ 2e-3 fp16, 8e-3 bf16).
#ifdef ATTN_EMU
#include "emu.h"
#endif
#include "gemv.cuh"

#define GEMV_PRO_LAYERNORM 1
#define GEMV_PRO_RMSNORM 2
#define GEMV_PRO_SWIGLU 3

// gemv_block_sum: every thread gets the sum over the block (blockDim.x a
// multiple of 32); scratch holds 32 floats.
__device__ __forceinline__ float gemv_block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = gemv_warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nw ? scratch[lane] : 0.f;
  return gemv_warp_sum(v);
}

__device__ __forceinline__ float gemv_silu(float g) { return g / (1.f + expf(-g)); }

// Eight elements widened to fp32, and back.
template <typename T>
__device__ __forceinline__ void gemv_unpack8(uint4 v, float (&f)[8]) {
  float2 p;
  p = gemv_unpack2<T>(v.x), f[0] = p.x, f[1] = p.y;
  p = gemv_unpack2<T>(v.y), f[2] = p.x, f[3] = p.y;
  p = gemv_unpack2<T>(v.z), f[4] = p.x, f[5] = p.y;
  p = gemv_unpack2<T>(v.w), f[6] = p.x, f[7] = p.y;
}

template <typename T>
__device__ __forceinline__ uint4 gemv_pack8(const float (&f)[8]) {
  uint4 v;
  uint32_t* u = reinterpret_cast<uint32_t*>(&v);
#pragma unroll
  for (int i = 0; i < 4; i++) {
    T lo = gemv_from_f<T>(f[2 * i]), hi = gemv_from_f<T>(f[2 * i + 1]);
    unsigned short l, h;
    memcpy(&l, &lo, 2);
    memcpy(&h, &hi, 2);
    u[i] = uint32_t(l) | (uint32_t(h) << 16);
  }
  return v;
}

// gemv_prologue stages p(x) of rows m < M into xs [MT][K] (T). Each thread
// handles the same 16-byte vectors in every pass, so the passes need no
// barrier of their own besides the reductions'.
template <typename T, int MT>
__device__ __forceinline__ void gemv_prologue(T* xs, const T* x, const T* nw, const T* nb, float eps, int pro, int M,
                                              int K) {
  __shared__ float scratch[32];
  const int nvec = K >> 3;
  for (int m = 0; m < MT && m < M; m++) {
    uint4* dst = reinterpret_cast<uint4*>(xs + (size_t)m * K);
    if (pro == GEMV_PRO_SWIGLU) {
      const T* g = x + (size_t)m * 2 * K;
      for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
        float gf[8], uf[8];
        gemv_unpack8<T>(gemv_ld_keep(g + v * 8), gf);
        gemv_unpack8<T>(gemv_ld_keep(g + K + v * 8), uf);
#pragma unroll
        for (int i = 0; i < 8; i++) gf[i] = gemv_silu(gf[i]) * uf[i];
        dst[v] = gemv_pack8<T>(gf);
      }
      continue;
    }
    const T* row = x + (size_t)m * K;
    if (pro != GEMV_PRO_LAYERNORM && pro != GEMV_PRO_RMSNORM) {  // none: the row as it is
      for (int v = threadIdx.x; v < nvec; v += blockDim.x) dst[v] = gemv_ld_keep(row + v * 8);
      continue;
    }
    float s = 0.f, q = 0.f;
    for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
      const uint4 raw = gemv_ld_keep(row + v * 8);
      dst[v] = raw;
      float f[8];
      gemv_unpack8<T>(raw, f);
#pragma unroll
      for (int i = 0; i < 8; i++) s += f[i], q += f[i] * f[i];
    }
    float mean = 0.f, inv;
    if (pro == GEMV_PRO_LAYERNORM) {
      mean = gemv_block_sum(s, scratch) / K;
      float c2 = 0.f;
      for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
        float f[8];
        gemv_unpack8<T>(dst[v], f);
#pragma unroll
        for (int i = 0; i < 8; i++) {
          const float c = f[i] - mean;
          c2 += c * c;
        }
      }
      inv = rsqrtf(gemv_block_sum(c2, scratch) / K + eps);
    } else {
      inv = rsqrtf(gemv_block_sum(q, scratch) / K + eps);
    }
    for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
      float f[8], wf[8], bf[8];
      gemv_unpack8<T>(dst[v], f);
      if (nw) gemv_unpack8<T>(gemv_ld_keep(nw + v * 8), wf);
      if (nb) gemv_unpack8<T>(gemv_ld_keep(nb + v * 8), bf);
#pragma unroll
      for (int i = 0; i < 8; i++) {
        float y;
        if (pro == GEMV_PRO_LAYERNORM) {
          y = (f[i] - mean) * inv;
          if (nw) y = y * wf[i] + (nb ? bf[i] : 0.f);
        } else {
          y = f[i] * inv;
          if (nw) y = y * wf[i];
        }
        f[i] = y;
      }
      dst[v] = gemv_pack8<T>(f);
    }
  }
  __syncthreads();
}

template <typename T, int MT, int R>
__device__ __forceinline__ void gemv_fused(const GemvArgs<T>& a, const T* nw, const T* nb, float eps, int pro,
                                           const GemvKV<T>& kv) {
#ifdef ATTN_EMU
  unsigned char* smem_raw = emu_dyn_smem();
#else
  extern __shared__ __align__(16) unsigned char smem_raw[];
#endif
  T* xs = reinterpret_cast<T*>(smem_raw);
  gemv_prologue<T, MT>(xs, a.x, nw, nb, eps, pro, a.M, a.K);

  __shared__ float red[32][MT * R];
  __shared__ float acc_s[MT * R];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw_ = blockDim.x >> 5;
  const int n0 = blockIdx.x * R;
  const int nvec = a.K >> 3;
  const int v0 = blockIdx.z * a.split_len, v1 = min(v0 + a.split_len, nvec);
  const T* wrow[R];
  bool wok[R];
#pragma unroll
  for (int r = 0; r < R; r++) {
    wok[r] = n0 + r < a.N;
    wrow[r] = a.w + (size_t)(wok[r] ? n0 + r : 0) * a.K;
  }
  const uint4* xrow[MT];
  bool xok[MT];
#pragma unroll
  for (int m = 0; m < MT; m++) {
    xok[m] = m < a.M;
    xrow[m] = reinterpret_cast<const uint4*>(xs + (size_t)(xok[m] ? m : 0) * a.K);
  }
  float acc[MT][R];
#pragma unroll
  for (int m = 0; m < MT; m++)
#pragma unroll
    for (int r = 0; r < R; r++) acc[m][r] = 0.f;

#pragma unroll 2
  for (int v = v0 + threadIdx.x; v < v1; v += blockDim.x) {
    uint4 wv[R], xv[MT];
#pragma unroll
    for (int r = 0; r < R; r++) wv[r] = wok[r] ? gemv_ld_stream(wrow[r] + v * 8) : make_uint4(0, 0, 0, 0);
#pragma unroll
    for (int m = 0; m < MT; m++) xv[m] = xok[m] ? xrow[m][v] : make_uint4(0, 0, 0, 0);
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
      for (int r = 0; r < R; r++) acc[m][r] = gemv_dot8<T>(xv[m], wv[r], acc[m][r]);
  }

#pragma unroll
  for (int m = 0; m < MT; m++)
#pragma unroll
    for (int r = 0; r < R; r++) {
      const float s = gemv_warp_sum(acc[m][r]);
      if (lane == 0) red[warp][m * R + r] = s;
    }
  __syncthreads();
  if (threadIdx.x < MT * R) {
    float s = 0.f;
    for (int i = 0; i < nw_; i++) s += red[i][threadIdx.x];
    acc_s[threadIdx.x] = s;
  }
  __syncthreads();
  gemv_finish<T, R>(acc_s, n0, a, kv.slots ? &kv : nullptr);
}

#define GEMV_FUSED(TN, T, MT, R)                                                                      \
  extern "C" __global__ void __launch_bounds__(256) gemv_fused_##TN##_m##MT##_r##R(                   \
      GEMV_PARAMS(T), const T* nw, const T* nb, float eps, int pro, T* kc, T* vc, const int* slots, \
      int q_width, int kv_width) {                                                                    \
    const GemvArgs<T> a = GEMV_ARGS;                                                                  \
    const GemvKV<T> kv = {kc, vc, slots, q_width, kv_width};                                          \
    gemv_fused<T, MT, R>(a, nw, nb, eps, pro, kv);                                                    \
  }
#define GEMV_FUSED_R(TN, T, MT) GEMV_FUSED(TN, T, MT, 1) GEMV_FUSED(TN, T, MT, 2) GEMV_FUSED(TN, T, MT, 4)
#define GEMV_FUSED_ALL(TN, T) GEMV_FUSED_R(TN, T, 1) GEMV_FUSED_R(TN, T, 2) GEMV_FUSED_R(TN, T, 4)

GEMV_FUSED_ALL(f16, __half)
GEMV_FUSED_ALL(bf16, gemv_bf16)
