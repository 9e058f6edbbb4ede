// swiglu: out[r, c] = silu(gu[r, c]) * gu[r, f + c], silu(g) = g / (1 + e^-g),
// in fp32 with one rounding. It finishes the Llama family's fused gate|up
// GEMM: gu [rows, 2f] = [gate | up], out [rows, f]; fp16 (swiglu_f16) or
// bf16 (swiglu_bf16).
// Launch: grid (rows, ceil(f / 512)), block 256: each thread takes a pair of
// columns (2-element loads when f is even, element by element when odd).
// Reference: kernels/cpu Backend.SwiGLU; TestLlamaKernels, relative error
// under 2e-3 (fp16) and 1e-2 (bf16).
#include "common.cuh"

__device__ __forceinline__ float silu(float g) { return g / (1.f + expf(-g)); }

template <typename T>
__device__ __forceinline__ void swiglu_pair(T* out, const T* gu, int f) {
  typedef typename pair_of<T>::type T2;
  int c = 2 * (blockIdx.y * blockDim.x + threadIdx.x);
  if (c >= f) return;
  const T* g = gu + (long)blockIdx.x * 2 * f;
  const T* u = g + f;
  T* o = out + (long)blockIdx.x * f;
  if ((f & 1) == 0) {
    float2 gv = to_float2(*(const T2*)(g + c)), uv = to_float2(*(const T2*)(u + c));
    *(T2*)(o + c) = from_float2<T>(make_float2(silu(gv.x) * uv.x, silu(gv.y) * uv.y));
    return;
  }
  for (int k = c; k < min(c + 2, f); k++) o[k] = from_float<T>(silu(to_float(g[k])) * to_float(u[k]));
}

extern "C" __global__ void swiglu_f16(half* out, const half* gu, int f) { swiglu_pair(out, gu, f); }

extern "C" __global__ void swiglu_bf16(bf16* out, const bf16* gu, int f) { swiglu_pair(out, gu, f); }
