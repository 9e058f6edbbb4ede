// gather_rows: out[r, :] = x[rows[r], :] — the hidden state of the last
// scheduled token of each sequence that needs logits.
//
// Shapes: x [n, d], out [m, d], of any 16-bit dtype (fp16, bf16: the rows
// are copied bit for bit); rows [m] int32.
// Launch: grid (m), block 128. Reference: kernels/cpu Backend.GatherLast;
// TestWriteKVAttentionGather (exact).
#include "common.cuh"

extern "C" __global__ void gather_rows(unsigned short* out, const unsigned short* x, const int* rows, int d) {
  const unsigned short* src = x + (long)rows[blockIdx.x] * d;
  unsigned short* dst = out + (long)blockIdx.x * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) dst[j] = src[j];
}
