// attn_prefill_*: causal flash attention (online softmax, tensor cores) of
// prefill chunks over the paged KV cache, for steps with queries of more than
// one token per sequence (prefill and chunked prefill; a mixed step's decode
// tokens go to attn_decode).
//
// The host lists the step's query tiles (kernels/cuda/attention_plan.go):
// [seq, first query row] per 64 rows, most keys first. A block computes one
// tile for one query head h (grid (heads, tiles); heads of a KV group are
// neighbours, so their K and V tiles meet in L2): Q (64 × head_dim) goes to
// shared memory, K and V tiles of kKeys keys stream through a 2-stage
// cp.async pipeline, and each warp keeps 16 query rows:
//   S = Q·Kᵀ on tensor cores, scaled by scale·log2(e), keys past a row's
//   position masked (query row r of the tile sits at position
//   ctx − qlen + q0 + r and sees keys 0..that position),
//   the running max and sum per row in registers (fp32),
//   O += P·V on tensor cores, P rounded to the element type.
// Keys come from the cache (the chunk's own were written before the call),
// so a prefix computed earlier costs the same as the chunk.
//
// Shapes: qkv [n, q_stride] with Q at column h·head_dim of a row; out [n,
// heads·head_dim]; kc, vc [num_slots, kv_heads·head_dim]; fp16 or bf16
// (entry points per element type and head-size bound DMAX 64/128/256);
// head_dim a multiple of 8; query head h reads KV head h / (heads /
// kv_heads). Launch: grid (heads, tiles), block 128, dynamic shared memory
// prefill_smem_bytes (attention.go mirrors it); blocks past n_tiles[0] exit.
// Reference: kernels/cpu Backend.Attention; attention_gpu_test.go compares
// them (relative error under 4e-3 in fp16, 1.6e-2 in bf16).
#include "attention.cuh"

namespace attn {

template <typename T, int DMAX>
__device__ __forceinline__ void prefill_kernel(T* out, const T* qkv, const T* kc, const T* vc, const int* qstart,
                                               const int* qlen, const int* ctx_len, const int* tables,
                                               const int* counts, const int* tiles, int stride, int block_size,
                                               int bs_shift, int num_heads, int num_kv_heads, int head_dim,
                                               int q_stride, float scale_log2) {
  using G_ = PrefillGeom<DMAX>;
  constexpr int BM = G_::kRows, BN = G_::kKeys, NS = G_::kStages, NTD = DMAX / 8;
  ATTN_DYN_SMEM(smem);
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2, t4 = lane & 3;
  const int h = blockIdx.x, ti = blockIdx.y;
  if (ti >= counts[1]) return;
  const int seq = tiles[2 * ti], q0 = tiles[2 * ti + 1];
  const int G = num_heads / num_kv_heads, kh = h / G;
  const int DV = row_vecs(head_dim), DP = padded_dim(head_dim), RV = head_dim / 8;
  const int kvw = num_kv_heads * head_dim, qw = num_heads * head_dim;
  const int ql = qlen[seq], cl = ctx_len[seq], tok0 = qstart[seq] + q0;
  const int rows = min(BM, ql - q0);
  const int pos0 = cl - ql + q0;            // position of the tile's row 0
  const int nkeys = min(cl, pos0 + rows);   // keys the tile's last row sees
  const int* table = tables + (long)seq * stride;

  uint4* qs = reinterpret_cast<uint4*>(smem);
  uint4* kst = qs + BM * DV;
  uint4* vst = kst + NS * BN * DV;
  const int total_words = (BM + 2 * NS * BN) * DV * 4;
  for (int i = tid; i < total_words; i += kThreads) reinterpret_cast<float*>(smem)[i] = 0.f;
  __syncthreads();

  const int lk = tid / RV, lv = tid - lk * RV, R = kThreads / RV;
  if (lk < R) {
    for (int r = lk; r < BM; r += R) {
      const bool valid = r < rows;
      const T* src = qkv + (valid ? (long)(tok0 + r) * q_stride + (long)h * head_dim + lv * 8 : 0);
      cp_async16(qs + r * DV + lv, src, valid);
    }
  }
  auto load_tile = [&](int j) {
    if (lk >= R) return;
    const int st = j % NS, base = j * BN;
    uint4* kd = kst + st * BN * DV;
    uint4* vd = vst + st * BN * DV;
    for (int r = lk; r < BN; r += R) {
      const int p = base + r;
      const bool valid = p < nkeys;
      const T* ksrc = kc;
      const T* vsrc = vc;
      if (valid) {
        long off = slot_of(table, p, block_size, bs_shift) * kvw + (long)kh * head_dim + lv * 8;
        ksrc = kc + off;
        vsrc = vc + off;
      }
      cp_async16(kd + r * DV + lv, ksrc, valid);
      cp_async16(vd + r * DV + lv, vsrc, valid);
    }
  };
  const int ntiles = (nkeys + BN - 1) / BN;
  load_tile(0);
  cp_async_commit();

  float o[NTD][4];
#pragma unroll
  for (int nt = 0; nt < NTD; nt++)
#pragma unroll
    for (int c = 0; c < 4; c++) o[nt][c] = 0.f;
  float m[2] = {neg_inf(), neg_inf()}, l[2] = {0.f, 0.f};
  const int row_lo = warp * 16 + g;  // this thread's rows: row_lo, row_lo + 8
  const uint4* qa = qs + (warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * DV + (lane >> 4);

  for (int j = 0; j < ntiles; j++) {
    cp_async_wait<0>();
    __syncthreads();
    if (j + 1 < ntiles) load_tile(j + 1);
    cp_async_commit();
    const int st = j % NS;

    // S = Q·Kᵀ (16 rows × BN keys per warp).
    float s[BN / 8][4];
#pragma unroll
    for (int nt = 0; nt < BN / 8; nt++)
#pragma unroll
      for (int c = 0; c < 4; c++) s[nt][c] = 0.f;
    const uint4* kb = kst + (st * BN + (lane & 7) + (lane >> 4) * 8) * DV + ((lane >> 3) & 1);
    for (int kk = 0; kk < DP / 16; kk++) {
      uint32_t a[4];
      ldsm_x4(a, qa + kk * 2);
#pragma unroll
      for (int np = 0; np < BN / 16; np++) {
        uint32_t b[4];
        ldsm_x4(b, kb + np * 16 * DV + kk * 2);
        mma16816<T>(s[2 * np], a, b);
        mma16816<T>(s[2 * np + 1], a, b + 2);
      }
    }

    // Mask, scale, online softmax. Key 0 is visible to every row, so each
    // row's maximum is finite from the first tile on.
    float mx[2] = {neg_inf(), neg_inf()};
#pragma unroll
    for (int nt = 0; nt < BN / 8; nt++) {
#pragma unroll
      for (int c = 0; c < 4; c++) {
        const int key = j * BN + nt * 8 + 2 * t4 + (c & 1);
        const int pos = pos0 + row_lo + (c >> 1) * 8;
        const float v = (key <= pos && key < nkeys) ? s[nt][c] * scale_log2 : neg_inf();
        s[nt][c] = v;
        mx[c >> 1] = fmaxf(mx[c >> 1], v);
      }
    }
    float corr[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
      mx[r] = fmaxf(mx[r], shfl_xor(mx[r], 1));
      mx[r] = fmaxf(mx[r], shfl_xor(mx[r], 2));
      const float m_new = fmaxf(m[r], mx[r]);
      corr[r] = fast_exp2(m[r] - m_new);
      m[r] = m_new;
      l[r] *= corr[r];
    }
#pragma unroll
    for (int nt = 0; nt < BN / 8; nt++) {
#pragma unroll
      for (int c = 0; c < 4; c++) {
        const float p = fast_exp2(s[nt][c] - m[c >> 1]);
        s[nt][c] = p;
        l[c >> 1] += p;
      }
    }
#pragma unroll
    for (int nt = 0; nt < NTD; nt++) {
      o[nt][0] *= corr[0];
      o[nt][1] *= corr[0];
      o[nt][2] *= corr[1];
      o[nt][3] *= corr[1];
    }

    // O += P·V: P's accumulator fragments are the A fragments of the next MMA.
    const uint4* vb = vst + (st * BN + (lane & 7) + ((lane >> 3) & 1) * 8) * DV + (lane >> 4);
#pragma unroll
    for (int ks = 0; ks < BN / 16; ks++) {
      uint32_t a[4];
      a[0] = elem<T>::pack(s[2 * ks][0], s[2 * ks][1]);
      a[1] = elem<T>::pack(s[2 * ks][2], s[2 * ks][3]);
      a[2] = elem<T>::pack(s[2 * ks + 1][0], s[2 * ks + 1][1]);
      a[3] = elem<T>::pack(s[2 * ks + 1][2], s[2 * ks + 1][3]);
#pragma unroll
      for (int np = 0; np < NTD / 2; np++) {
        if (np < DP / 16) {
          uint32_t b[4];
          ldsm_x4_t(b, vb + ks * 16 * DV + np * 2);
          mma16816<T>(o[2 * np], a, b);
          mma16816<T>(o[2 * np + 1], a, b + 2);
        }
      }
    }
  }
  cp_async_wait<0>();

  // Row sums live spread over the four threads of a quad.
#pragma unroll
  for (int r = 0; r < 2; r++) {
    l[r] += shfl_xor(l[r], 1);
    l[r] += shfl_xor(l[r], 2);
    l[r] = 1.f / l[r];
  }
#pragma unroll
  for (int nt = 0; nt < NTD; nt++) {
    const int d = nt * 8 + 2 * t4;
    if (d < head_dim) {
#pragma unroll
      for (int r = 0; r < 2; r++) {
        const int row = row_lo + r * 8;
        if (row < rows) {
          T* dst = out + (long)(tok0 + row) * qw + (long)h * head_dim + d;  // 4-byte aligned: d is even
          *reinterpret_cast<uint32_t*>(dst) = elem<T>::pack(o[nt][2 * r] * l[r], o[nt][2 * r + 1] * l[r]);
        }
      }
    }
  }
}

}  // namespace attn

#define ATTN_PREFILL(NAME, T, DMAX)                                                                          \
  extern "C" __global__ void __launch_bounds__(attn::kThreads)                                               \
      NAME(T* out, const T* qkv, const T* kc, const T* vc, const int* qstart, const int* qlen,                \
           const int* ctx_len, const int* tables, const int* counts, const int* tiles, int stride,            \
           int block_size, int bs_shift, int num_heads, int num_kv_heads, int head_dim, int q_stride,         \
           float scale_log2) {                                                                                \
    attn::prefill_kernel<T, DMAX>(out, qkv, kc, vc, qstart, qlen, ctx_len, tables, counts, tiles, stride,      \
                                  block_size, bs_shift, num_heads, num_kv_heads, head_dim, q_stride,          \
                                  scale_log2);                                                                \
  }

ATTN_PREFILL(attn_prefill_f16_d64, half, 64)
ATTN_PREFILL(attn_prefill_f16_d128, half, 128)
ATTN_PREFILL(attn_prefill_f16_d256, half, 256)
ATTN_PREFILL(attn_prefill_bf16_d64, __nv_bfloat16, 64)
ATTN_PREFILL(attn_prefill_bf16_d128, __nv_bfloat16, 128)
ATTN_PREFILL(attn_prefill_bf16_d256, __nv_bfloat16, 256)
