// embed: out[i, :] = tok[tokens[i], :] + pos[positions[i] + pos_offset, :]
//
// Shapes: out [n, d] fp16; tok [vocab, d] fp16 (may be null); pos [P, d]
// fp16 (may be null); tokens, positions [n] int32 (padded rows hold 0).
// Launch: grid (n), block 128; one row per block, fp32 add, fp16 store.
// Reference: kernels/cpu Backend.Embed; checked by TestEmbed (exact up to
// one fp16 rounding).
#include "common.cuh"

extern "C" __global__ void embed(half* out, const half* tok, const half* pos, const int* tokens,
                                 const int* positions, int pos_offset, int d) {
  int row = blockIdx.x;
  const half* t = tok ? tok + (long)tokens[row] * d : nullptr;
  const half* p = pos ? pos + (long)(positions[row] + pos_offset) * d : nullptr;
  half* o = out + (long)row * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float v = 0.f;
    if (t) v += __half2float(t[j]);
    if (p) v += __half2float(p[j]);
    o[j] = __float2half(v);
  }
}
