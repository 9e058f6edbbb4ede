// layernorm: out[r, :] = (x[r, :] - mean) / sqrt(var + eps) * w + b
//
// Shapes: x, out [rows, d] fp16 (out may alias x); w, b [d] fp16 (may be
// null: no affine). Launch: grid (rows), block 256, dynamic shared memory
// d floats + 32: the row is staged in shared memory as fp32, so aliasing is
// safe, and mean and variance are two exact passes over it.
// Reference: kernels/cpu Backend.LayerNorm; TestLayerNorm, relative error
// under 2e-3 (fp16 output).
#include "common.cuh"

extern "C" __global__ void layernorm(half* out, const half* x, const half* w, const half* b, int d, float eps) {
  extern __shared__ float sh[];
  float* row = sh + 32;
  const half* xr = x + (long)blockIdx.x * d;
  float s = 0.f;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float v = __half2float(xr[j]);
    row[j] = v;
    s += v;
  }
  float mean = block_sum(s, sh) / d;
  float q = 0.f;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float c = row[j] - mean;
    q += c * c;
  }
  float inv = rsqrtf(block_sum(q, sh) / d + eps);
  half* o = out + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float y = (row[j] - mean) * inv;
    if (w) y = y * __half2float(w[j]) + __half2float(b[j]);
    o[j] = __float2half(y);
  }
}
