// linear_epilogue: the epilogue of LinearEpilogue when cuBLAS ran the GEMM
// (prefill, large M, or a shape where cuBLAS was measured faster):
// out[r, c] = act(out[r, c] + bias[c]) + residual[r, c] in place, fp32
// arithmetic. T is fp16 or bf16; out and residual [rows, cols], bias [cols];
// bias or residual may be null; act as in gemv.cuh (0 none, 1 ReLU).
// Launch: grid (ceil(cols / 256), rows), block 256: one element a thread.
// Entry points linear_epilogue_{f16,bf16}.
// Reference: kernels/cpu Backend.LinearEpilogue; TestGemvEpilogues
// (relative error ≤ 2e-3 fp16, 8e-3 bf16).
#include "gemv.cuh"

template <typename T>
__device__ __forceinline__ void linear_epilogue(T* out, const T* bias, const T* residual, int cols, int act) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  const size_t o = (size_t)blockIdx.y * cols + c;
  float v = gemv_to_f(out[o]);
  if (bias) v += gemv_to_f(bias[c]);
  if (act == GEMV_ACT_RELU) v = fmaxf(v, 0.f);
  if (residual) v += gemv_to_f(residual[o]);
  out[o] = gemv_from_f<T>(v);
}

extern "C" __global__ void linear_epilogue_f16(__half* out, const __half* bias, const __half* residual, int cols, int act) {
  linear_epilogue(out, bias, residual, cols, act);
}

extern "C" __global__ void linear_epilogue_bf16(gemv_bf16* out, const gemv_bf16* bias, const gemv_bf16* residual, int cols,
                                                int act) {
  linear_epilogue(out, bias, residual, cols, act);
}
