// Layer norms over fp16 rows with fp32 statistics.
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

__device__ void norm_row(half* o, float* row, float* sh, const half* w, const half* b, int d, float eps) {
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
    if (w) y = y * __half2float(w[j]) + __half2float(b[j]);
    o[j] = __float2half(y);
  }
}

extern "C" __global__ void layernorm(half* out, const half* x, const half* w, const half* b, int d, float eps) {
  extern __shared__ float sh[];
  float* row = sh + 32;
  const half* xr = x + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) row[j] = __half2float(xr[j]);
  norm_row(out + (long)blockIdx.x * d, row, sh, w, b, d, eps);
}

extern "C" __global__ void residual_layernorm(half* h, const half* x, const half* bias, half* out, const half* w,
                                              const half* b, int d, float eps, int do_norm) {
  extern __shared__ float sh[];
  float* row = sh + 32;
  half* hr = h + (long)blockIdx.x * d;
  const half* xr = x + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float v = __half2float(hr[j]) + __half2float(xr[j]);
    if (bias) v += __half2float(bias[j]);
    half hv = __float2half(v);
    hr[j] = hv;
    row[j] = __half2float(hv);
  }
  if (do_norm) norm_row(out + (long)blockIdx.x * d, row, sh, w, b, d, eps);
}

