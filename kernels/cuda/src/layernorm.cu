// Layer norms over 16-bit rows (fp16: NAME_f16, bf16: NAME_bf16) with fp32
// statistics.
//
// layernorm: out[r, :] = (x[r, :] - mean) / sqrt(var + eps) * w + b
//   x, out [rows, d] (out may alias x); w, b [d] or null (no affine).
// residual_layernorm: h[r, :] += x[r, :] + bias; then, when do_norm,
//   out[r, :] = layernorm(h[r, :]). It ends an attention or FFN block: the
//   bias of the GEMM before it, the residual add, and the next norm in one
//   pass. out may alias h (post-LN); bias, w, b may be null.
// Launch: grid (rows), block 256, dynamic shared memory (d + 32) floats
// staging the row in fp32 (d up to 24000); mean and variance are two exact
// passes over the staged values, so aliasing is safe. (A one-warp-per-row
// variant holding the row in registers was measured slower on an H100 —
// BENCHMARKS.md — and removed.)
// Reference: kernels/cpu Backend.LayerNorm and Backend.ResidualLayerNorm;
// TestEmbedAndLayerNorms, relative error under 2e-3.
#include "common.cuh"

template <typename T>
__device__ void norm_row(T* o, float* row, float* sh, const T* w, const T* b, int d, float eps) {
  __syncthreads();  // the row was staged by other threads
  float s = 0.f;
  for (int j = threadIdx.x; j < d; j += blockDim.x) s += row[j];
  float mean = block_sum(s, sh) / d;
  float q = 0.f;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float c = row[j] - mean;
    q += c * c;
  }
  float inv = rsqrtf(block_sum(q, sh) / d + eps);
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float y = (row[j] - mean) * inv;
    if (w) y = y * to_float(w[j]) + to_float(b[j]);
    o[j] = from_float<T>(y);
  }
}

template <typename T>
__device__ __forceinline__ void layernorm_row(T* out, const T* x, const T* w, const T* b, int d, float eps) {
  extern __shared__ float sh[];
  float* row = sh + 32;
  const T* xr = x + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) row[j] = to_float(xr[j]);
  norm_row(out + (long)blockIdx.x * d, row, sh, w, b, d, eps);
}

template <typename T>
__device__ __forceinline__ void residual_layernorm_row(T* h, const T* x, const T* bias, T* out, const T* w,
                                                       const T* b, int d, float eps, int do_norm) {
  extern __shared__ float sh[];
  float* row = sh + 32;
  T* hr = h + (long)blockIdx.x * d;
  const T* xr = x + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float v = to_float(hr[j]) + to_float(xr[j]);
    if (bias) v += to_float(bias[j]);
    T hv = from_float<T>(v);
    hr[j] = hv;
    row[j] = to_float(hv);
  }
  if (do_norm) norm_row(out + (long)blockIdx.x * d, row, sh, w, b, d, eps);
}

extern "C" __global__ void layernorm_f16(half* out, const half* x, const half* w, const half* b, int d, float eps) {
  layernorm_row(out, x, w, b, d, eps);
}

extern "C" __global__ void layernorm_bf16(bf16* out, const bf16* x, const bf16* w, const bf16* b, int d, float eps) {
  layernorm_row(out, x, w, b, d, eps);
}

extern "C" __global__ void residual_layernorm_f16(half* h, const half* x, const half* bias, half* out, const half* w,
                                                  const half* b, int d, float eps, int do_norm) {
  residual_layernorm_row(h, x, bias, out, w, b, d, eps, do_norm);
}

extern "C" __global__ void residual_layernorm_bf16(bf16* h, const bf16* x, const bf16* bias, bf16* out, const bf16* w,
                                                   const bf16* b, int d, float eps, int do_norm) {
  residual_layernorm_row(h, x, bias, out, w, b, d, eps, do_norm);
}
