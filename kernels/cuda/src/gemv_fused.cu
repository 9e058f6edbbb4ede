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
// staged rows; the first weights are already on their way (gemv_fused_run). The epilogue's residual may alias out (h += ...): each output
// element is read and written by one thread.
// With slots not null, the epilogue also stores each token's K and V columns
// of a fused QKV row [q_width | kv_width | kv_width] at its slot of kc and vc
// (gemv.cuh, GemvKV): OPT's bias + KV write without a qkv_prep launch.
// Shapes: x [M, K] (SwiGLU [M, 2K]), w [N, K] (Hugging Face's Linear
// layout), out [M, N]; M ≤ MT, K a multiple of 8, x and w 16-byte aligned;
// nw, nb [K] (nb LayerNorm only; nw null: no affine).
// Launch: grid (G, 1, S), G ≤ ceil(N / R) (a block takes every G-th tile;
// G < ceil(N / R) only without a split), block 32–256 threads, dynamic
// shared memory (MT + 2)·K·sizeof(T) bytes with a prologue (the rows, the
// norm's weight and bias), none without. A split over K (S > 1) is finished
// by the last block of each tile (gemv_finish); every block stages whole
// rows.
// Entry points gemv_fused_{f16,bf16}_m{MT}_r{R}, MT ∈ {1, 2, 4}, R ∈ {1, 2, 4}.
// Reference: kernels/cpu Backend.FusedLinear, FusedQKV and FusedArgmax (the CPU's
// norm or SwiGLU, then LinearEpilogue or ArgmaxLinear); TestFusedLinear
// (relative error ≤ 2e-3 fp16, 8e-3 bf16).
#ifdef ATTN_EMU
#include "emu.h"
#endif
#include "gemv.cuh"

#define GEMV_PRO_NONE 0
#define GEMV_PRO_LAYERNORM 1
#define GEMV_PRO_RMSNORM 2
#define GEMV_PRO_SWIGLU 3

// gemv_block_sums: every thread gets the N sums over the block (blockDim.x
// a multiple of 32), added in warp order; scratch holds 32·N floats.
template <int N>
__device__ __forceinline__ void gemv_block_sums(float (&v)[N], float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll
  for (int i = 0; i < N; i++) v[i] = gemv_warp_sum(v[i]);
  if (lane == 0)
#pragma unroll
    for (int i = 0; i < N; i++) scratch[warp * N + i] = v[i];
  __syncthreads();
#pragma unroll
  for (int i = 0; i < N; i++) {
    float s = 0.f;
    for (int w = 0; w < nw; w++) s += scratch[w * N + i];
    v[i] = s;
  }
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

// gemv_prologue stages p(x) of rows m < M into xs [MT][K] (T), with the
// norm's weight and bias staged beside them (ws, bs [K]) by the same first
// pass, so every global load of the prologue is in flight at once. The row
// statistics of all rows take one block reduction: LayerNorm's mean and
// variance from sums shifted by the row's first element (no cancellation
// unless that element sits far outside the row's spread), RMSNorm's mean
// square. Each thread handles the same 16-byte vectors in every pass.
template <typename T, int MT>
__device__ __forceinline__ void gemv_prologue(T* xs, T* ws, T* bs, const T* x, const T* nw, const T* nb, float eps,
                                              int pro, int M, int K) {
  __shared__ float scratch[32 * 2 * MT];
  const int nvec = K >> 3;
  if (pro == GEMV_PRO_SWIGLU) {
    for (int m = 0; m < MT && m < M; m++) {
      const T* g = x + (size_t)m * 2 * K;
      uint4* dst = reinterpret_cast<uint4*>(xs + (size_t)m * K);
      for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
        float gf[8], uf[8];
        gemv_unpack8<T>(gemv_ld_keep(g + v * 8), gf);
        gemv_unpack8<T>(gemv_ld_keep(g + K + v * 8), uf);
#pragma unroll
        for (int i = 0; i < 8; i++) gf[i] = gemv_silu(gf[i]) * uf[i];
        dst[v] = gemv_pack8<T>(gf);
      }
    }
    __syncthreads();
    return;
  }
  const bool ln = pro == GEMV_PRO_LAYERNORM;
  float c[MT], st[2 * MT];
#pragma unroll
  for (int m = 0; m < MT; m++) {
    c[m] = (ln && m < M) ? gemv_to_f(x[(size_t)m * K]) : 0.f;
    st[2 * m] = st[2 * m + 1] = 0.f;
  }
  for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
    if (nw) reinterpret_cast<uint4*>(ws)[v] = gemv_ld_keep(nw + v * 8);
    if (nb) reinterpret_cast<uint4*>(bs)[v] = gemv_ld_keep(nb + v * 8);
#pragma unroll
    for (int m = 0; m < MT; m++) {
      if (m >= M) continue;
      const uint4 raw = gemv_ld_keep(x + (size_t)m * K + v * 8);
      reinterpret_cast<uint4*>(xs + (size_t)m * K)[v] = raw;
      float f[8];
      gemv_unpack8<T>(raw, f);
#pragma unroll
      for (int i = 0; i < 8; i++) {
        const float d = f[i] - c[m];
        st[2 * m] += d, st[2 * m + 1] += d * d;
      }
    }
  }
  gemv_block_sums<2 * MT>(st, scratch);
  float mean[MT], inv[MT];
#pragma unroll
  for (int m = 0; m < MT; m++) {
    const float ds = st[2 * m] / K;
    mean[m] = c[m] + ds;
    const float var = ln ? fmaxf(st[2 * m + 1] / K - ds * ds, 0.f) : st[2 * m + 1] / K;
    inv[m] = rsqrtf(var + eps);
  }
  for (int v = threadIdx.x; v < nvec; v += blockDim.x) {
    float wf[8], bf[8];
    if (nw) gemv_unpack8<T>(reinterpret_cast<const uint4*>(ws)[v], wf);
    if (nb) gemv_unpack8<T>(reinterpret_cast<const uint4*>(bs)[v], bf);
#pragma unroll
    for (int m = 0; m < MT; m++) {
      if (m >= M) continue;
      uint4* dst = reinterpret_cast<uint4*>(xs + (size_t)m * K) + v;
      float f[8];
      gemv_unpack8<T>(*dst, f);
#pragma unroll
      for (int i = 0; i < 8; i++) {
        float y;
        if (ln) {
          y = (f[i] - mean[m]) * inv[m];
          if (nw) y = y * wf[i] + (nb ? bf[i] : 0.f);
        } else {
          y = f[i] * inv[m];
          if (nw) y = y * wf[i];
        }
        f[i] = y;
      }
      *dst = gemv_pack8<T>(f);
    }
  }
  __syncthreads();
}

// gemv_load_w loads the R weight vectors at vector v of the tile whose first
// row is n0 (zeros past N or past v1).
template <typename T, int R>
__device__ __forceinline__ void gemv_load_w(uint4 (&w)[R], const GemvArgs<T>& a, int n0, int v, int v1) {
#pragma unroll
  for (int r = 0; r < R; r++)
    w[r] = (n0 + r < a.N && v < v1) ? gemv_ld_stream(a.w + (size_t)(n0 + r) * a.K + (size_t)v * 8) : make_uint4(0, 0, 0, 0);
}

// gemv_fused_run is the kernel body. STAGE: the rows are p(x), staged in
// shared memory by the prologue; else (no prologue) they are read from x in
// place. Each thread's first two weight vectors of the block's first tile
// are loaded before the prologue, and each next one two ahead, so the
// weight stream overlaps the prologue (a decode-sized K is one or two
// vectors a thread). A block takes tiles blockIdx.x,
// blockIdx.x + gridDim.x, … (a grid smaller than the tiles — the LM head's
// — stages the rows once for several tiles).
template <typename T, int MT, int R, bool STAGE>
__device__ __forceinline__ void gemv_fused_run(const GemvArgs<T>& a, const T* nw, const T* nb, float eps, int pro,
                                               const GemvKV<T> kv) {
#ifdef ATTN_EMU
  unsigned char* smem_raw = emu_dyn_smem();
#else
  extern __shared__ __align__(16) unsigned char smem_raw[];
#endif
  T* xs = reinterpret_cast<T*>(smem_raw);
  __shared__ float red[32][MT * R];
  __shared__ float acc_s[MT * R];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarp = blockDim.x >> 5;
  const int nvec = a.K >> 3;
  const int v0 = blockIdx.z * a.split_len, v1 = min(v0 + a.split_len, nvec);
  const int tiles = (a.N + R - 1) / R;
  int tile = blockIdx.x;
  uint4 wn[2][R];  // the weights of this thread's next two vectors
  gemv_load_w<T, R>(wn[0], a, tile * R, v0 + threadIdx.x, v1);
  gemv_load_w<T, R>(wn[1], a, tile * R, v0 + threadIdx.x + blockDim.x, v1);
  GemvPre pre = {gridDim.z == 1 && (int)gridDim.x >= tiles && MT * R <= (int)blockDim.x, 0.f, 0.f, -1};
  if (pre.on && a.out_kind != GEMV_OUT_ARGMAX && (int)threadIdx.x < a.M * R) {
    const int m = threadIdx.x / R, n = tile * R + (threadIdx.x - m * R);
    if (n < a.N) {
      if (a.bias) pre.bias = gemv_to_f(a.bias[n]);
      if (a.residual) pre.residual = gemv_to_f(a.residual[(size_t)m * a.N + n]);
      if (kv.slots) pre.slot = kv.slots[m];
    }
  }
  if (STAGE) gemv_prologue<T, MT>(xs, xs + (size_t)MT * a.K, xs + (size_t)(MT + 1) * a.K, a.x, nw, nb, eps, pro, a.M, a.K);

  for (; tile < tiles; tile += gridDim.x) {
    const int n0 = tile * R;
    float acc[MT][R];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
      for (int r = 0; r < R; r++) acc[m][r] = 0.f;
    for (int v = v0 + threadIdx.x; v < v1; v += blockDim.x) {
      uint4 wv[R], xv[MT];
#pragma unroll
      for (int r = 0; r < R; r++) wv[r] = wn[0][r], wn[0][r] = wn[1][r];
      gemv_load_w<T, R>(wn[1], a, n0, v + 2 * blockDim.x, v1);
#pragma unroll
      for (int m = 0; m < MT; m++) {
        if (m >= a.M)
          xv[m] = make_uint4(0, 0, 0, 0);
        else if (STAGE)
          xv[m] = reinterpret_cast<const uint4*>(xs + (size_t)m * a.K)[v];
        else
          xv[m] = gemv_ld_keep(a.x + (size_t)m * a.K + (size_t)v * 8);
      }
#pragma unroll
      for (int m = 0; m < MT; m++)
#pragma unroll
        for (int r = 0; r < R; r++) acc[m][r] = gemv_dot8<T>(xv[m], wv[r], acc[m][r]);
    }
    if (tile + (int)gridDim.x < tiles) {
      gemv_load_w<T, R>(wn[0], a, n0 + gridDim.x * R, v0 + threadIdx.x, v1);
      gemv_load_w<T, R>(wn[1], a, n0 + gridDim.x * R, v0 + threadIdx.x + blockDim.x, v1);
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
      for (int i = 0; i < nwarp; i++) s += red[i][threadIdx.x];
      acc_s[threadIdx.x] = s;
    }
    __syncthreads();
    gemv_finish<T, R>(acc_s, n0, a, kv, pre);
    __syncthreads();  // red and acc_s are the next tile's
  }
}

template <typename T, int MT, int R>
__device__ __forceinline__ void gemv_fused(const GemvArgs<T>& a, const T* nw, const T* nb, float eps, int pro,
                                           const GemvKV<T>& kv) {
  if (pro == GEMV_PRO_NONE)
    gemv_fused_run<T, MT, R, false>(a, nw, nb, eps, pro, kv);
  else
    gemv_fused_run<T, MT, R, true>(a, nw, nb, eps, pro, kv);
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
