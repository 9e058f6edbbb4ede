// bias_act: x[r, c] = act(x[r, c] + bias[c]) over x [rows, cols], fp32
// arithmetic; bias may be null; act is ReLU when relu != 0. It finishes FC1
// (bias + ReLU) and adds a bias after a GEMM that had none. fp16
// (bias_act_f16) and bf16 (bias_act_bf16).
// Launch: grid (ceil(cols / 512), rows), block 256: each thread takes a pair
// of columns (2-element loads); an odd width is taken element by element.
// Reference: kernels/cpu Backend.BiasAct; TestEmbedAndLayerNorms (bias),
// TestBiasActWide.
#include "common.cuh"

template <typename T>
__device__ __forceinline__ void bias_act_pair(T* x, const T* bias, int cols, int relu) {
  typedef typename pair_of<T>::type T2;
  int c = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
  if (c >= cols) return;
  T* row = x + (long)blockIdx.y * cols;
  if (c + 1 < cols && (cols & 1) == 0) {
    float2 v = to_float2(*(T2*)(row + c));
    if (bias) {
      float2 b = to_float2(*(const T2*)(bias + c));
      v.x += b.x, v.y += b.y;
    }
    if (relu) v.x = fmaxf(v.x, 0.f), v.y = fmaxf(v.y, 0.f);
    *(T2*)(row + c) = from_float2<T>(v);
    return;
  }
  for (int k = c; k < min(c + 2, cols); k++) {
    float v = to_float(row[k]);
    if (bias) v += to_float(bias[k]);
    if (relu) v = fmaxf(v, 0.f);
    row[k] = from_float<T>(v);
  }
}

extern "C" __global__ void bias_act_f16(half* x, const half* bias, long rows, int cols, int relu) {
  bias_act_pair(x, bias, cols, relu);
}

extern "C" __global__ void bias_act_bf16(bf16* x, const bf16* bias, long rows, int cols, int relu) {
  bias_act_pair(x, bias, cols, relu);
}
