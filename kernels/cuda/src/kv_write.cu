// qkv_prep: prepares each token's fused QKV row in place and stores its K
// and V heads in the paged cache — the step between the QKV GEMM and
// attention, in one pass.
//
// Row i of qkv [n, (H + 2·KVH)·hd] holds H query heads, KVH key heads, KVH
// value heads. For every head: + bias (may be null); Q and K heads: RMSNorm
// over the head with q_norm / k_norm [hd] (each may be null: Qwen3 has
// both), then the rotary embedding of positions[i] when inv_freq [hd/2] fp32
// is not null — rotate-half layout, element j paired with j + hd/2 at angle
// fp32(positions[i] · inv_freq[j]), sincosf in full precision; Q heads are
// then multiplied by q_scale. K and V heads go to slot s = slots[i] of
// kc, vc [num_slots, KVH·hd] (s < 0: padding, not stored). Arithmetic in
// fp32, one rounding to the storage type; fp16 (qkv_prep_f16) or bf16
// (qkv_prep_bf16); hd at most 256 and even when rotating.
// Launch: grid (n, ceil((H + 2·KVH) / 4)), block 128: one warp per (token,
// head), the head staged in fp32 shared memory for the norm's sum.
// Reference: kernels/cpu Backend.WriteKV; TestWriteKVAttentionGather and
// TestLlamaKernels (exact up to rounding, relative error under 2e-3 fp16,
// 1e-2 bf16).
#include "common.cuh"

#define MAXHD 256

template <typename T>
__device__ __forceinline__ void qkv_prep_head(T* kc, T* vc, T* qkv, const T* bias, const T* q_norm, const T* k_norm,
                                              const float* inv_freq, const int* positions, const int* slots,
                                              int heads, int kv_heads, int hd, float eps, float q_scale) {
  __shared__ float staged[4][MAXHD];
  int i = blockIdx.x, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  int h = blockIdx.y * 4 + warp;
  int total = heads + 2 * kv_heads;
  if (h >= total) return;  // warps are independent: no block barrier below
  bool is_q = h < heads, is_v = h >= heads + kv_heads;
  T* x = qkv + (long)i * total * hd + (long)h * hd;
  const T* b = bias ? bias + (long)h * hd : nullptr;
  float* s = staged[warp];
  float ss = 0.f;
  for (int j = lane; j < hd; j += 32) {
    float v = to_float(x[j]);
    if (b) v += to_float(b[j]);
    s[j] = v;
    ss += v * v;
  }
  const T* w = is_v ? nullptr : (is_q ? q_norm : k_norm);
  float inv = w ? rsqrtf(warp_sum(ss) / hd + eps) : 1.f;  // w is uniform over the warp
  __syncwarp();
  float scale = is_q ? q_scale : 1.f;
  long slot = slots[i];
  T* dst = nullptr;
  if (slot >= 0 && !is_q) {
    int kvh = is_v ? h - heads - kv_heads : h - heads;
    dst = (is_v ? vc : kc) + slot * kv_heads * hd + (long)kvh * hd;
  }
  if (inv_freq && !is_v) {
    int half_hd = hd / 2;
    float pos = (float)positions[i];
    for (int j = lane; j < half_hd; j += 32) {
      float a = s[j], c = s[j + half_hd];
      if (w) a = a * inv * to_float(w[j]), c = c * inv * to_float(w[j + half_hd]);
      float sn, cs;
      sincosf(__fmul_rn(pos, inv_freq[j]), &sn, &cs);
      T lo = from_float<T>((a * cs - c * sn) * scale), hi = from_float<T>((c * cs + a * sn) * scale);
      x[j] = lo, x[j + half_hd] = hi;
      if (dst) dst[j] = lo, dst[j + half_hd] = hi;
    }
    return;
  }
  for (int j = lane; j < hd; j += 32) {
    float v = s[j];
    if (w) v = v * inv * to_float(w[j]);
    T o = from_float<T>(v * scale);
    x[j] = o;
    if (dst) dst[j] = o;
  }
}

extern "C" __global__ void qkv_prep_f16(half* kc, half* vc, half* qkv, const half* bias, const half* q_norm,
                                        const half* k_norm, const float* inv_freq, const int* positions,
                                        const int* slots, int heads, int kv_heads, int hd, float eps, float q_scale) {
  qkv_prep_head(kc, vc, qkv, bias, q_norm, k_norm, inv_freq, positions, slots, heads, kv_heads, hd, eps, q_scale);
}

extern "C" __global__ void qkv_prep_bf16(bf16* kc, bf16* vc, bf16* qkv, const bf16* bias, const bf16* q_norm,
                                         const bf16* k_norm, const float* inv_freq, const int* positions,
                                         const int* slots, int heads, int kv_heads, int hd, float eps, float q_scale) {
  qkv_prep_head(kc, vc, qkv, bias, q_norm, k_norm, inv_freq, positions, slots, heads, kv_heads, hd, eps, q_scale);
}
