// Layer norms, one row per block, fp32 statistics over fp16 rows.
//
// layernorm: out[r, :] = (x[r, :] - mean) / sqrt(var + eps) * w + b
//   x, out [rows, d] (out may alias x); w, b [d] or null (no affine).
// residual_layernorm: h[r, :] += x[r, :] + bias; then, when do_norm,
//   out[r, :] = layernorm(h[r, :]). It ends an attention or FFN block: the
//   bias of the GEMM before it, the residual add, and the next norm in one
//   pass. out may alias h (post-LN); bias, w, b may be null.
// Launch: grid (rows), block 256, dynamic shared memory (d + 32) floats (d
// even for residual_layernorm, which moves half2 pairs): the
// row is staged in shared memory as fp32 (so aliasing is safe) and mean and
// variance are two exact passes over it.
// Reference: kernels/cpu Backend.LayerNorm and Backend.ResidualLayerNorm;
// TestLayerNorms, relative error under 2e-3.
#include "common.cuh"

__device__ void norm_row(half* o, float* row, float* sh, const half* w, const half* b, int d, float eps) {
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
  half2* hr = (half2*)(h + (long)blockIdx.x * d);  // d is even: half2 steps
  const half2* xr = (const half2*)(x + (long)blockIdx.x * d);
  const half2* br = (const half2*)bias;
  for (int j = threadIdx.x; j < d / 2; j += blockDim.x) {
    float2 v = __half22float2(hr[j]), xv = __half22float2(xr[j]);
    v.x += xv.x, v.y += xv.y;
    if (bias) {
      float2 bv = __half22float2(br[j]);
      v.x += bv.x, v.y += bv.y;
    }
    half2 hv = __floats2half2_rn(v.x, v.y);
    hr[j] = hv;
    float2 r = __half22float2(hv);
    row[2 * j] = r.x, row[2 * j + 1] = r.y;
  }
  if (do_norm) norm_row(out + (long)blockIdx.x * d, row, sh, w, b, d, eps);
}
