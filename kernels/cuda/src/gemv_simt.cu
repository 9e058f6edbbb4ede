// gemv_simt: the weight-streaming GEMV on CUDA cores for the smallest M.
// out[m, n] = act(Σ_k x[m, k]·w[n, k] + bias[n]) + residual[m, n], or the
// fp32 product, or the greedy argmax of each row (gemv.cuh, gemv_finish).
// T is fp16 or bf16, arithmetic fp32.
// Shapes: x [M, K], w [N, K] (row-major, Hugging Face's Linear layout),
// out [M, N]; M ≤ MT, K a multiple of 8, x and w 16-byte aligned.
// Launch: grid (ceil(N / R), 1, S), block 64–256 threads. A block owns R
// consecutive weight rows (output columns) for all M tokens; its threads
// stride over K in 16-byte vectors (8 elements), each holding MT × R fp32
// sums, reduced by warp shuffles and then across warps in shared memory in
// warp order. blockIdx.z takes the z-th slice of split_len vectors of K: a
// grid split-K finished by the last block of each tile (gemv_finish).
// Entry points gemv_simt_{f16,bf16}_m{MT}_r{R}, MT ∈ {1, 2, 4}, R ∈ {1, 2, 4}.
// Reference: kernels/cpu Backend.Linear / LinearEpilogue / ArgmaxLinear;
// TestGemvVariants (relative error ≤ 2e-3 fp16, 8e-3 bf16), TestGemvEpilogues.
#include "gemv.cuh"

template <typename T, int MT, int R>
__device__ __forceinline__ void gemv_simt(const GemvArgs<T>& a) {
  __shared__ float red[32][MT * R];
  __shared__ float acc_s[MT * R];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
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
  const T* xrow[MT];
  bool xok[MT];
#pragma unroll
  for (int m = 0; m < MT; m++) {
    xok[m] = m < a.M;
    xrow[m] = a.x + (size_t)(xok[m] ? m : 0) * a.K;
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
    for (int m = 0; m < MT; m++) xv[m] = xok[m] ? gemv_ld_keep(xrow[m] + v * 8) : make_uint4(0, 0, 0, 0);
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
    for (int i = 0; i < nw; i++) s += red[i][threadIdx.x];
    acc_s[threadIdx.x] = s;  // [m][r]: the tile layout gemv_finish reads, TR = R
  }
  __syncthreads();
  gemv_finish<T, R>(acc_s, n0, a);
}

#define GEMV_SIMT(TN, T, MT, R)                                                                 \
  extern "C" __global__ void __launch_bounds__(256) gemv_simt_##TN##_m##MT##_r##R(GEMV_PARAMS(T)) { \
    const GemvArgs<T> a = GEMV_ARGS;                                                          \
    gemv_simt<T, MT, R>(a);                                                                   \
  }
#define GEMV_SIMT_R(TN, T, MT) GEMV_SIMT(TN, T, MT, 1) GEMV_SIMT(TN, T, MT, 2) GEMV_SIMT(TN, T, MT, 4)
#define GEMV_SIMT_ALL(TN, T) GEMV_SIMT_R(TN, T, 1) GEMV_SIMT_R(TN, T, 2) GEMV_SIMT_R(TN, T, 4)

GEMV_SIMT_ALL(f16, __half)
GEMV_SIMT_ALL(bf16, gemv_bf16)
