// embed: out[i, :] = tok[tokens[i], :] + pos[positions[i] + pos_offset, :]
//
// Shapes: out [n, d]; tok [vocab, d] (may be null); pos [P, d] (may be
// null); all fp16 (embed_f16) or bf16 (embed_bf16); tokens, positions [n]
// int32 (padded rows hold 0).
// Launch: grid (n), block 128; one row per block, fp32 add, one rounding.
// Reference: kernels/cpu Backend.Embed; checked by TestEmbedAndLayerNorms
// (exact up to one rounding).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ void embed_row(T* out, const T* tok, const T* pos, const int* tokens,
                                          const int* positions, int pos_offset, int d) {
  int row = blockIdx.x;
  const T* t = tok ? tok + (long)tokens[row] * d : nullptr;
  const T* p = pos ? pos + (long)(positions[row] + pos_offset) * d : nullptr;
  T* o = out + (long)row * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    float v = 0.f;
    if (t) v += to_float(t[j]);
    if (p) v += to_float(p[j]);
    o[j] = from_float<T>(v);
  }
}

extern "C" __global__ void embed_f16(half* out, const half* tok, const half* pos, const int* tokens,
                                     const int* positions, int pos_offset, int d) {
  embed_row(out, tok, pos, tokens, positions, pos_offset, d);
}

extern "C" __global__ void embed_bf16(bf16* out, const bf16* tok, const bf16* pos, const int* tokens,
                                      const int* positions, int pos_offset, int d) {
  embed_row(out, tok, pos, tokens, positions, pos_offset, d);
}
