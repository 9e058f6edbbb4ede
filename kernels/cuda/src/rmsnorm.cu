// residual_rmsnorm: when x is not null, h[r, :] += x[r, :] (stored rounded,
// as transformers adds the residual in the model's dtype); then
// out[r, :] = h[r, :] / sqrt(mean(h[r, :]²) + eps) * w, statistics in fp32.
// It ends a Llama-family block: the residual add and the next RMSNorm in one
// pass over the row (the first layer's norm passes x = null).
//
// Shapes: h, x, out [rows, d] (out may alias h), w [d]; fp16
// (residual_rmsnorm_f16) or bf16 (residual_rmsnorm_bf16). Any d: each
// thread re-reads, in the second pass, only the elements it wrote.
// Launch: grid (rows), block 256.
// Reference: kernels/cpu Backend.ResidualRMSNorm; TestLlamaKernels,
// relative error under 2e-3 (fp16) and 1e-2 (bf16).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ void residual_rmsnorm_row(T* h, const T* x, T* out, const T* w, int d, float eps) {
  __shared__ float scratch[32];
  T* hr = h + (long)blockIdx.x * d;
  const T* xr = x ? x + (long)blockIdx.x * d : nullptr;
  float q = 0.f;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float v = to_float(hr[j]);
    if (xr) {
      T hv = from_float<T>(v + to_float(xr[j]));
      hr[j] = hv;
      v = to_float(hv);
    }
    q += v * v;
  }
  float inv = rsqrtf(block_sum(q, scratch) / d + eps);
  T* o = out + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) o[j] = from_float<T>(to_float(hr[j]) * inv * to_float(w[j]));
}

extern "C" __global__ void residual_rmsnorm_f16(half* h, const half* x, half* out, const half* w, int d, float eps) {
  residual_rmsnorm_row(h, x, out, w, d, eps);
}

extern "C" __global__ void residual_rmsnorm_bf16(bf16* h, const bf16* x, bf16* out, const bf16* w, int d, float eps) {
  residual_rmsnorm_row(h, x, out, w, d, eps);
}
