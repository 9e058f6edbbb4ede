// bias_act: x[r, c] = act(x[r, c] + bias[c]) over fp16 x [rows, cols], fp32
// arithmetic; bias may be null; act is ReLU when relu != 0. It finishes FC1
// (bias + ReLU) and adds a bias after a GEMM that had none.
// Launch: grid (ceil(cols / 512), rows), block 256: each thread takes a pair
// of columns (half2 loads); an odd last column is taken alone.
// Reference: kernels/cpu Backend.BiasAct; TestEmbedAndLayerNorms (bias).
#include "common.cuh"

extern "C" __global__ void bias_act(half* x, const half* bias, long rows, int cols, int relu) {
  int c = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
  if (c >= cols) return;
  half* row = x + (long)blockIdx.y * cols;
  if (c + 1 < cols && (cols & 1) == 0) {
    float2 v = __half22float2(*(half2*)(row + c));
    if (bias) {
      float2 b = __half22float2(*(const half2*)(bias + c));
      v.x += b.x, v.y += b.y;
    }
    if (relu) v.x = fmaxf(v.x, 0.f), v.y = fmaxf(v.y, 0.f);
    *(half2*)(row + c) = __floats2half2_rn(v.x, v.y);
    return;
  }
  for (int k = c; k < min(c + 2, cols); k++) {
    float v = __half2float(row[k]);
    if (bias) v += __half2float(bias[k]);
    if (relu) v = fmaxf(v, 0.f);
    row[k] = __float2half(v);
  }
}
