// attn_decode_*: split-KV paged attention for decode tokens (one query per
// sequence), streaming K and V once per KV head for all its query heads.
//
// The host cuts each decode sequence's context into chunks (the plan,
// kernels/cuda/attention_plan.go): items [seq, first key, end key, slot],
// longest first; slot ≥ 0 names the workspace row of a partial result when
// the sequence has several chunks, -1 when one chunk covers it;
// seq_info[2s], [2s+1] are sequence s's chunk count and first slot. A unit
// of work is (item, KV head, group of up to 8 of its query heads: one MMA
// n-tile; larger groups take several units). The grid is persistent (fixed for a CUDA
// graph: CTAs per multiprocessor × multiprocessors) and CTAs take units from
// an atomic counter, one ahead, so contexts that change between graph
// replays cost no idle blocks. While a unit finishes, the next one's first
// copies are already in flight.
//
// A unit: its queries go to shared memory (8 rows, those past the group's
// zero); K and V tiles of kTile keys
// stream through a 3-stage cp.async pipeline with 16-byte copies; per tile
//   Sᵀ = K·Qᵀ (keys × heads) on tensor cores, scaled by scale·log2(e),
//   an online softmax per head (fp32 max, sum, correction),
//   Oᵀ += Vᵀ·Pᵀ (dims × heads) on tensor cores, P rounded to the element type.
// A unit covering its whole sequence writes out. A chunk writes its
// unnormalised partial and (max, sum) to the workspace, ws = [slots_cap ×
// heads] (max, sum) pairs then [slots_cap × heads × head_dim] outputs, fp32;
// the chunk that arrives last (a counter per sequence and KV head) merges
// them: M = max m_p, out = Σ 2^(m_p − M)·o_p / Σ 2^(m_p − M)·l_p, and
// clears its counter. counters = [next unit, CTAs done, 62 unused, one per
// sequence × KV head × head group]; the last CTA out clears the first two. They start
// at zero and every launch leaves them zero.
//
// Shapes: qkv [n, q_stride] with Q at column h·head_dim of a row; out [n,
// heads·head_dim]; kc, vc [num_slots, kv_heads·head_dim]; fp16 or bf16
// (entry points per element type and per head-size bound DMAX 64/128/256);
// head_dim a multiple of 8; slot of key p: block_tables[s·stride + p/bs]·bs
// + p%bs. Launch: grid (CTAs), block 128, dynamic shared memory
// decode_smem_bytes (attention.go mirrors it).
// Reference: kernels/cpu Backend.Attention; attention_gpu_test.go compares
// them (relative error under 3e-3 in fp16, 1e-2 in bf16).
#include "attention.cuh"

namespace attn {

constexpr int kArriveOffset = 64;  // counters: where the per-(sequence, KV head) arrivals start

template <typename T, int DMAX>
__device__ __forceinline__ void decode_kernel(T* out, const T* qkv, const T* kc, const T* vc, const int* qstart,
                                              const int* tables, const int* counts, const int* items,
                                              const int* seq_info, float* ws, int* counters, int stride,
                                              int block_size, int bs_shift, int num_heads, int num_kv_heads,
                                              int head_dim, int q_stride, float scale_log2, int slots_cap) {
  using G_ = DecodeGeom<DMAX>;
  constexpr int TK = G_::kTile, NS = G_::kStages, MTW = G_::kMTiles;
  ATTN_DYN_SMEM(smem);
  __shared__ int s_unit[2];
  __shared__ int s_last;

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2, t4 = lane & 3;
  const int G = num_heads / num_kv_heads, HC = (G + 7) / 8;  // query heads per KV head; groups of 8
  const int DV = row_vecs(head_dim), MT = padded_dim(head_dim) / 16;
  const int RV = head_dim / 8, PV = TK / 8 + 1;
  const int kvw = num_kv_heads * head_dim, qw = num_heads * head_dim;
  float* ws_ml = ws;
  float* ws_o = ws + 2L * slots_cap * num_heads;

  uint4* kst = reinterpret_cast<uint4*>(smem);
  uint4* vst = kst + NS * TK * DV;
  uint4* qs = vst + NS * TK * DV;
  uint4* ps = qs + 8 * DV;
  float* ss = reinterpret_cast<float*>(ps + 8 * PV);
  float* m_s = ss + 8 * (TK + 4);
  float* l_s = m_s + 8;
  float* c_s = l_s + 8;
  const int total_words = (int)((c_s + 8) - reinterpret_cast<float*>(smem));

  // Zero everything once: the padding columns and rows (dims past head_dim,
  // heads past the group) are read by the MMAs.
  for (int i = tid; i < total_words; i += kThreads) reinterpret_cast<float*>(smem)[i] = 0.f;
  if (tid == 0) s_unit[0] = atomic_add(counters, 1);
  __syncthreads();

  const int per_item = num_kv_heads * HC;
  const int total = counts[0] * per_item;
  // Loaders: thread = (key lane, 16-byte vector of the row).
  const int lk = tid / RV, lv = tid - lk * RV, R = kThreads / RV;

  // A unit's item, KV head and first query head.
  struct Unit {
    const int* it;
    int kh, h0, ng;
  };
  auto unit_of = [&](int u) {
    Unit x;
    const int item = u / per_item, r = u - item * per_item;
    x.it = items + 4 * item;
    x.kh = r / HC;
    const int hc = r - x.kh * HC;
    x.h0 = x.kh * G + hc * 8;
    x.ng = min(8, G - hc * 8);
    return x;
  };
  auto issue_tile = [&](const Unit& x, int j) {
    const int k0 = x.it[1], k1 = x.it[2];
    const int* table = tables + (long)x.it[0] * stride;
    if (lk >= R) return;
    const int st = j % NS, base = k0 + j * TK;
    uint4* kd = kst + st * TK * DV;
    uint4* vd = vst + st * TK * DV;
    for (int r = lk; r < TK; r += R) {
      const int p = base + r;
      const bool valid = p < k1;
      const T* ksrc = kc;
      const T* vsrc = vc;
      if (valid) {
        long off = slot_of(table, p, block_size, bs_shift) * kvw + (long)x.kh * head_dim + lv * 8;
        ksrc = kc + off;
        vsrc = vc + off;
      }
      cp_async16(kd + r * DV + lv, ksrc, valid);
      cp_async16(vd + r * DV + lv, vsrc, valid);
    }
  };
  // issue starts a unit: its queries and its first NS-1 tiles, one copy
  // group each (the queries with tile 0).
  auto issue = [&](const Unit& x) {
    const int ntiles = (x.it[2] - x.it[1] + TK - 1) / TK;
    const T* qrow = qkv + (long)qstart[x.it[0]] * q_stride + (long)x.h0 * head_dim;
    for (int c = tid; c < x.ng * RV; c += kThreads) {
      int n = c / RV, v = c - n * RV;
      cp_async16(qs + n * DV + v, qrow + n * head_dim + v * 8, true);
    }
    for (int j = 0; j < NS - 1; j++) {
      if (j < ntiles) issue_tile(x, j);
      cp_async_commit();
    }
  };

  int u = s_unit[0], which = 0;
  if (u < total) issue(unit_of(u));
  while (u < total) {
    if (tid == 0) s_unit[which ^ 1] = atomic_add(counters, 1);
    const Unit x = unit_of(u);
    const int seq = x.it[0], k0 = x.it[1], k1 = x.it[2], slot = x.it[3];
    const int tok = qstart[seq], ng = x.ng;
    const int ntiles = (k1 - k0 + TK - 1) / TK;
    if (tid < 8) {
      m_s[tid] = neg_inf();
      l_s[tid] = 0.f;
      c_s[tid] = 1.f;
    }

    float acc[MTW][4];
#pragma unroll
    for (int i = 0; i < MTW; i++)
#pragma unroll
      for (int c = 0; c < 4; c++) acc[i][c] = 0.f;

    for (int j = 0; j < ntiles; j++) {
      cp_async_wait<NS - 2>();
      __syncthreads();
      if (j + NS - 1 < ntiles) issue_tile(x, j + NS - 1);
      cp_async_commit();
      const int st = j % NS;
      const int nvalid = min(TK, k1 - (k0 + j * TK));

      // Sᵀ = K·Qᵀ: warp w takes keys 16w..16w+15 of the tile.
      if (warp < TK / 16) {
        float sacc[4] = {0.f, 0.f, 0.f, 0.f};
        const uint4* krow = kst + (st * TK + warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * DV + (lane >> 4);
        const uint4* qrow_s = qs + (lane & 7) * DV + ((lane >> 3) & 1);
        for (int kk = 0; kk < MT; kk++) {
          uint32_t a[4], b[2];
          ldsm_x4(a, krow + kk * 2);
          ldsm_x2(b, qrow_s + kk * 2);
          mma16816<T>(sacc, a, b);
        }
#pragma unroll
        for (int c = 0; c < 4; c++) {
          const int key = warp * 16 + g + (c >> 1) * 8;
          ss[(2 * t4 + (c & 1)) * (TK + 4) + key] = key < nvalid ? sacc[c] * scale_log2 : neg_inf();
        }
      }
      __syncthreads();

      // Online softmax, one warp per head; key 0 of a tile is always valid,
      // so the new maximum is finite.
      for (int n = warp; n < ng; n += 4) {
        const float* row = ss + n * (TK + 4);
        float mx = neg_inf();
        for (int k = lane; k < TK; k += 32) mx = fmaxf(mx, row[k]);
        mx = warp_max(mx);
        const float m_old = m_s[n], m_new = fmaxf(m_old, mx);
        const float corr = fast_exp2(m_old - m_new);
        T* prow = reinterpret_cast<T*>(ps + n * PV);
        float sum = 0.f;
        for (int k = lane; k < TK; k += 32) {
          float p = fast_exp2(row[k] - m_new);
          sum += p;
          prow[k] = elem<T>::from_float(p);
        }
        sum = warp_sum(sum);
        if (lane == 0) {
          m_s[n] = m_new;
          l_s[n] = l_s[n] * corr + sum;
          c_s[n] = corr;
        }
      }
      __syncthreads();

      // Oᵀ += Vᵀ·Pᵀ: warp w takes dims 16(w + 4i)..+15 over the tile's keys.
      // Query and P rows past the group hold zeros or an earlier unit's
      // (finite) values: their score rows and output columns go unread.
      const int ksteps = (nvalid + 15) / 16;
      const float c0 = c_s[2 * t4], c1 = c_s[2 * t4 + 1];
#pragma unroll
      for (int i = 0; i < MTW; i++) {
        const int mt = warp + 4 * i;
        if (mt < MT) {
          acc[i][0] *= c0;
          acc[i][1] *= c1;
          acc[i][2] *= c0;
          acc[i][3] *= c1;
          const uint4* vrow = vst + (st * TK + (lane & 7) + (lane >> 4) * 8) * DV + mt * 2 + ((lane >> 3) & 1);
          const uint4* prow = ps + (lane & 7) * PV + ((lane >> 3) & 1);
          for (int ks = 0; ks < ksteps; ks++) {
            uint32_t a[4], b[2];
            ldsm_x4_t(a, vrow + ks * 16 * DV);
            ldsm_x2(b, prow + ks * 2);
            mma16816<T>(acc[i], a, b);
          }
        }
      }
    }
    // Every thread is past the last P·V (the stages are free) and sees the
    // next unit's number: start it, then finish this one.
    __syncthreads();
    const int next = s_unit[which ^ 1];
    if (next < total) issue(unit_of(next));

    // Epilogue: element c of acc[i] is dim 16·mt + g (+8 for c ≥ 2), head
    // 2·t4 (+1 for odd c) of the group.
#pragma unroll
    for (int i = 0; i < MTW; i++) {
      const int mt = warp + 4 * i;
      if (mt < MT) {
#pragma unroll
        for (int c = 0; c < 4; c++) {
          const int d = mt * 16 + g + (c >> 1) * 8;
          const int n = 2 * t4 + (c & 1);
          if (d < head_dim && n < ng) {
            const int h = x.h0 + n;
            if (slot < 0)
              out[(long)tok * qw + h * head_dim + d] = elem<T>::from_float(acc[i][c] / l_s[n]);
            else
              ws_o[((long)slot * num_heads + h) * head_dim + d] = acc[i][c];
          }
        }
      }
    }
    if (slot >= 0) {
      if (tid < ng) {
        float* ml = ws_ml + 2 * ((long)slot * num_heads + x.h0 + tid);
        ml[0] = m_s[tid];
        ml[1] = l_s[tid];
      }
      // Publish the partial; the chunk that completes the set merges it.
      thread_fence();
      __syncthreads();
      const int nparts = seq_info[2 * seq], base = seq_info[2 * seq + 1];
      int* arrive = counters + kArriveOffset + (long)seq * per_item + (u - (u / per_item) * per_item);
      if (tid == 0) s_last = atomic_add(arrive, 1) == nparts - 1;
      __syncthreads();
      if (s_last) {
        thread_fence();
        for (int n = warp; n < ng; n += 4) {
          const float* mlp = ws_ml + 2 * ((long)base * num_heads + x.h0 + n);
          float mx = neg_inf();
          for (int p = lane; p < nparts; p += 32) mx = fmaxf(mx, load_cg(mlp + 2L * p * num_heads));
          mx = warp_max(mx);
          float l = 0.f;
          for (int p = lane; p < nparts; p += 32)
            l += fast_exp2(load_cg(mlp + 2L * p * num_heads) - mx) * load_cg(mlp + 2L * p * num_heads + 1);
          l = warp_sum(l);
          if (lane == 0) {
            m_s[n] = mx;
            l_s[n] = 1.f / l;
          }
        }
        __syncthreads();
        // The group's (head, dim) pairs are contiguous in a slot's row.
        const float* ob = ws_o + ((long)base * num_heads + x.h0) * head_dim;
        const float* mb = ws_ml + 2 * ((long)base * num_heads + x.h0);
        T* orow = out + (long)tok * qw + (long)x.h0 * head_dim;
        for (int q = tid; q < ng * head_dim; q += kThreads) {
          const int n = q / head_dim;
          const float M = m_s[n];
          float a = 0.f;
#pragma unroll 8
          for (int p = 0; p < nparts; p++)
            a += fast_exp2(load_cg(mb + 2L * p * num_heads + 2 * n) - M) * load_cg(ob + (long)p * qw + q);
          orow[q] = elem<T>::from_float(a * l_s[n]);
        }
        if (tid == 0) *arrive = 0;
      }
    }
    // This unit's reads of m_s and l_s end before the next one resets them.
    __syncthreads();
    u = next;
    which ^= 1;
  }
  cp_async_wait<0>();

  // The last CTA out clears the unit counters for the next launch (every
  // other CTA has taken its last unit by then).
  if (tid == 0) {
    thread_fence();
    if (atomic_add(counters + 1, 1) == (int)(gridDim.x - 1)) {
      counters[0] = 0;
      counters[1] = 0;
      thread_fence();
    }
  }
}

}  // namespace attn

#define ATTN_DECODE(NAME, T, DMAX)                                                                             \
  extern "C" __global__ void __launch_bounds__(attn::kThreads)                                                 \
      NAME(T* out, const T* qkv, const T* kc, const T* vc, const int* qstart, const int* tables,                \
           const int* counts, const int* items, const int* seq_info, float* ws, int* counters, int stride,      \
           int block_size, int bs_shift, int num_heads, int num_kv_heads, int head_dim, int q_stride,           \
           float scale_log2, int slots_cap) {                                                                   \
    attn::decode_kernel<T, DMAX>(out, qkv, kc, vc, qstart, tables, counts, items, seq_info, ws, counters,        \
                                 stride, block_size, bs_shift, num_heads, num_kv_heads, head_dim, q_stride,     \
                                 scale_log2, slots_cap);                                                        \
  }

ATTN_DECODE(attn_decode_f16_d64, half, 64)
ATTN_DECODE(attn_decode_f16_d128, half, 128)
ATTN_DECODE(attn_decode_f16_d256, half, 256)
ATTN_DECODE(attn_decode_bf16_d64, __nv_bfloat16, 64)
ATTN_DECODE(attn_decode_bf16_d128, __nv_bfloat16, 128)
ATTN_DECODE(attn_decode_bf16_d256, __nv_bfloat16, 256)
