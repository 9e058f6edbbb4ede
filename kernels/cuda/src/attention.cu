// paged_attention: causal multi-head attention over the paged KV cache, for
// prefill chunks and decode alike (variable lengths in one batch).
//
// Token i belongs to sequence s = tok_seq[i] (negative: padding, output 0) at
// position ctx[s] - qlen[s] + (i - qstart[s]); it attends to cached positions
// 0..that position, position p living in slot
// block_tables[s * max_blocks + p / block_size] * block_size + p % block_size.
// Shapes: q rows are q_stride apart (the Q third of a fused QKV row, already
// scaled); out [n, heads * head_dim] fp16; kc, vc
// [num_slots, heads * head_dim] fp16; head_dim a multiple of 32, at most 256.
// Launch: grid (n, ceil(heads / 4)), block 128: one warp per (token, head);
// each lane owns head_dim / 32 dimensions; keys are visited in order with an
// online (flash-style) softmax in fp32, so no score matrix is stored.
// Reference: kernels/cpu Backend.Attention; TestAttention, relative error
// under 5e-3.
#include "common.cuh"

#define MAXD 8  // dims per lane: head_dim up to 256

extern "C" __global__ void paged_attention(half* out, const half* q, const half* kc, const half* vc,
                                           const int* tok_seq, const int* qstart, const int* qlen,
                                           const int* ctx, const int* block_tables, int max_blocks,
                                           int block_size, int heads, int head_dim, int q_stride) {
  int i = blockIdx.x;
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  int h = blockIdx.y * 4 + warp;
  if (h >= heads) return;
  int d = heads * head_dim;
  int per = head_dim / 32;
  half* o = out + (long)i * d + h * head_dim + lane * per;
  int s = tok_seq[i];
  if (s < 0) {
    for (int j = 0; j < per; j++) o[j] = __float2half(0.f);
    return;
  }
  int pos = ctx[s] - qlen[s] + (i - qstart[s]);
  const int* table = block_tables + (long)s * max_blocks;
  float qv[MAXD], acc[MAXD];
  const half* qr = q + (long)i * q_stride + h * head_dim + lane * per;
  for (int j = 0; j < per; j++) {
    qv[j] = __half2float(qr[j]);
    acc[j] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  for (int p = 0; p <= pos; p++) {
    long slot = (long)table[p / block_size] * block_size + p % block_size;
    const half* kr = kc + slot * d + h * head_dim + lane * per;
    float dot = 0.f;
    for (int j = 0; j < per; j++) dot += qv[j] * __half2float(kr[j]);
    dot = warp_sum(dot);
    float mn = fmaxf(m, dot);
    float corr = __expf(m - mn), w = __expf(dot - mn);
    l = l * corr + w;
    const half* vr = vc + slot * d + h * head_dim + lane * per;
    for (int j = 0; j < per; j++) acc[j] = acc[j] * corr + w * __half2float(vr[j]);
    m = mn;
  }
  for (int j = 0; j < per; j++) o[j] = __float2half(acc[j] / l);
}
