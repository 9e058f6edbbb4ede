// qkv_kv_write: qkv[i, :] += bias; kc[slots[i], :] = qkv[i, d:2d];
// vc[slots[i], :] = qkv[i, 2d:3d].
//
// It finishes the fused QKV GEMM: the bias, then the K and V thirds into
// the paged cache (slot = physical block * block_size + offset).
// Shapes: qkv [n, 3d] fp16, d even; bias [3d] fp16 or null; kc, vc
// [num_slots, d] fp16; slots [n] int32, negative for padded rows (bias only,
// no write). Launch: grid (n), block 256, half2 per thread and step.
// Reference: kernels/cpu Backend.WriteKV; TestWriteKVAttentionGather
// (exact up to one fp16 rounding).
#include "common.cuh"

extern "C" __global__ void qkv_kv_write(half* kc, half* vc, half* qkv, const half* bias, const int* slots, int d) {
  int i = blockIdx.x;
  long s = slots[i];
  half2* row = (half2*)(qkv + (long)i * 3 * d);
  const half2* b2 = (const half2*)bias;
  int h2 = d / 2;
  half2* k2 = (half2*)(kc + s * d);
  half2* v2 = (half2*)(vc + s * d);
  for (int j = threadIdx.x; j < 3 * h2; j += blockDim.x) {
    half2 v = row[j];
    if (bias) {
      v = __hadd2(v, b2[j]);
      row[j] = v;
    }
    if (s >= 0 && j >= h2) {
      if (j < 2 * h2)
        k2[j - h2] = v;
      else
        v2[j - 2 * h2] = v;
    }
  }
}
