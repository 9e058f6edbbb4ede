// qkv_kv_write: qkv[i, :] += bias; kc[slots[i], :] = qkv[i, d:2d];
// vc[slots[i], :] = qkv[i, 2d:3d].
//
// It finishes the fused QKV GEMM: the bias, then the K and V thirds into
// the paged cache (slot = physical block * block_size + offset).
// Shapes: qkv [n, 3d] fp16; bias [3d] fp16 or null; kc, vc [num_slots, d]
// fp16; slots [n] int32, negative for padded rows (bias only, no write).
// Launch: grid (n), block 256. Reference: kernels/cpu Backend.WriteKV;
// TestWriteKVAttentionGather (exact up to one fp16 rounding).
#include "common.cuh"

extern "C" __global__ void qkv_kv_write(half* kc, half* vc, half* qkv, const half* bias, const int* slots, int d) {
  int i = blockIdx.x;
  long s = slots[i];
  half* row = qkv + (long)i * 3 * d;
  for (int j = threadIdx.x; j < 3 * d; j += blockDim.x) {
    half v = row[j];
    if (bias) {
      v = __float2half(__half2float(v) + __half2float(bias[j]));
      row[j] = v;
    }
    if (s >= 0 && j >= d) {
      if (j < 2 * d)
        kc[s * d + j - d] = v;
      else
        vc[s * d + j - 2 * d] = v;
    }
  }
}
