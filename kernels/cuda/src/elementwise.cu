// Element-wise kernels over fp16 tensors, fp32 arithmetic.
//
// bias_act: x[r, c] = act(x[r, c] + bias[c]) for x [rows, cols]; bias may be
//   null, act is ReLU when relu != 0. Reference: Backend.Linear's bias and
//   Backend.ReLU. TestLinear, TestReLU.
// add:      out[i] = a[i] + b[i], n elements (out may alias a). TestAdd.
// scale:    x[i] *= s, n elements. TestScale.
// Launch: grid-stride loops, block 256, grid min(ceil(n/256), 4096).
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

extern "C" __global__ void add(half* out, const half* a, const half* b, long n) {
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
    out[i] = __float2half(__half2float(a[i]) + __half2float(b[i]));
}

extern "C" __global__ void scale(half* x, float s, long n) {
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
    x[i] = __float2half(__half2float(x[i]) * s);
}
