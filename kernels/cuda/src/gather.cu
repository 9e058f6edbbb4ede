// gather_rows: out[r, :] = x[rows[r], :] — the hidden state of the last
// scheduled token of each sequence that needs logits.
//
// Shapes: x [n, d] fp16; out [m, d] fp16; rows [m] int32.
// Launch: grid (m), block 128. Reference: kernels/cpu Backend.GatherLast;
// TestGatherLast (exact).
#include "common.cuh"

extern "C" __global__ void gather_rows(half* out, const half* x, const int* rows, int d) {
  const half* src = x + (long)rows[blockIdx.x] * d;
  half* dst = out + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) dst[j] = src[j];
}
