// paged_attention: causal multi-head attention over the paged KV cache, for
// prefill chunks and decode alike (variable lengths in one batch). Replaced
// by attention_decode.cu and attention_prefill.cu; kept (Backend.
// legacyAttention) as the baseline of the A/B micro-benchmark.
//
// Token i belongs to sequence s = tok_seq[i] (negative: padding, output 0) at
// position ctx[s] - qlen[s] + (i - qstart[s]); it attends to cached positions
// 0..that position, position p living in slot
// block_tables[s * max_blocks + p / block_size] * block_size + p % block_size.
// Shapes: q rows are q_stride apart (the Q third of a fused QKV row, already
// scaled); out [n, heads * head_dim] fp16; kc, vc [num_slots, heads *
// head_dim] fp16; head_dim a multiple of 32, at most 256.
// Launch: grid (n, ceil(heads / 4)), block 128: one warp per (token, head).
// Keys go 32 at a time, one per lane: each lane scores its key over the whole
// head (16-byte loads of K), the warp folds the chunk into an online
// (flash-style) softmax in fp32, then accumulates V with each lane owning
// head_dim / 32 output dimensions. No score matrix is stored.
// Reference: kernels/cpu Backend.Attention.
#include "common.cuh"

#define MAXD 8     // output dims per lane: head_dim up to 256
#define MAXHD 256

extern "C" __global__ void paged_attention(half* out, const half* q, const half* kc, const half* vc,
                                           const int* tok_seq, const int* qstart, const int* qlen,
                                           const int* ctx, const int* block_tables, int max_blocks,
                                           int block_size, int heads, int head_dim, int q_stride) {
  __shared__ float qs[4][MAXHD];
  int i = blockIdx.x;
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  int h = blockIdx.y * 4 + warp;
  if (h >= heads) return;  // warps are independent: no block barrier below
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
  const half* qr = q + (long)i * q_stride + h * head_dim;
  for (int j = lane; j < head_dim; j += 32) qs[warp][j] = __half2float(qr[j]);
  __syncwarp();
  float acc[MAXD];
  for (int j = 0; j < MAXD; j++) acc[j] = 0.f;
  float m = -INFINITY, l = 0.f;
  for (int c = 0; c <= pos; c += 32) {
    int p = c + lane;
    float sc = -INFINITY;
    int slot = 0;
    if (p <= pos) {
      slot = table[p / block_size] * block_size + p % block_size;
      const uint4* kr = (const uint4*)(kc + (long)slot * d + h * head_dim);
      float dot = 0.f;
      for (int j = 0; j < head_dim / 8; j++) {
        uint4 raw = kr[j];
        const half2* k2 = (const half2*)&raw;
#pragma unroll
        for (int e = 0; e < 4; e++) {
          float2 kv = __half22float2(k2[e]);
          dot += qs[warp][8 * j + 2 * e] * kv.x + qs[warp][8 * j + 2 * e + 1] * kv.y;
        }
      }
      sc = dot;
    }
    float mn = fmaxf(m, warp_max(sc));
    float corr = __expf(m - mn);
    float w = (p <= pos) ? __expf(sc - mn) : 0.f;
    l = l * corr + warp_sum(w);
#pragma unroll
    for (int j = 0; j < MAXD; j++) acc[j] *= corr;
    int nk = min(32, pos - c + 1);
    // Unrolled so the V loads of several keys are in flight at once; keys
    // past the end have weight 0 and slot 0, a valid row.
#pragma unroll 8
    for (int k = 0; k < 32; k++) {
      if (k >= nk) break;
      float wk = __shfl_sync(FULL_MASK, w, k);
      int sk = __shfl_sync(FULL_MASK, slot, k);
      const half* vr = vc + (long)sk * d + h * head_dim + lane * per;
#pragma unroll
      for (int j = 0; j < MAXD; j++)
        if (j < per) acc[j] += wk * __half2float(vr[j]);
    }
    m = mn;
  }
  float inv = 1.f / l;
  for (int j = 0; j < per; j++) o[j] = __float2half(acc[j] * inv);
}
