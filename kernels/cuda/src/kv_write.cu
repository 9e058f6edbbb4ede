// kv_write: kc[slots[i], :] = k[i, :]; vc[slots[i], :] = v[i, :]
//
// Shapes: k, v [n, d] fp16; kc, vc [num_slots, d] fp16 (slot = physical
// block * block_size + offset); slots [n] int32, negative for padded rows,
// which are skipped. Launch: grid (n), block 128.
// Reference: kernels/cpu Backend.WriteKV; TestWriteKV (exact).
#include "common.cuh"

extern "C" __global__ void kv_write(half* kc, half* vc, const half* k, const half* v, const int* slots, int d) {
  int i = blockIdx.x;
  long s = slots[i];
  if (s < 0) return;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    kc[s * d + j] = k[(long)i * d + j];
    vc[s * d + j] = v[(long)i * d + j];
  }
}
