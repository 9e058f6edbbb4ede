// bias_act: x[r, c] = act(x[r, c] + bias[c]) over fp16 x [rows, cols], fp32
// arithmetic; bias may be null; act is ReLU when relu != 0. It finishes FC1
// (bias + ReLU) and adds a bias after a GEMM that had none.
// Launch: grid-stride loop, block 256, grid min(ceil(n/256), 4096).
// Reference: kernels/cpu Backend.BiasAct; TestBiasAct.
#include "common.cuh"

extern "C" __global__ void bias_act(half* x, const half* bias, long rows, int cols, int relu) {
  long n = rows * cols;
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
    float v = __half2float(x[i]);
    if (bias) v += __half2float(bias[i % cols]);
    if (relu) v = fmaxf(v, 0.f);
    x[i] = __float2half(v);
  }
}
