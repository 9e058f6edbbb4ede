// sample: one token per row of fp32 logits [rows, vocab], the same
// definition as kernels.SampleRow:
//   temperature <= 0: argmax, lowest index on ties;
//   else w_j = exp((x_j - max x) / T) for x_j >= the k-th largest logit
//   (top-k; ties kept), then only w_j >= tau where tau is the smallest weight
//   of the shortest descending prefix holding top_p of the mass (top-p), and
//   u = Uniform(seed, step) * kept mass picks the token where the running sum
//   in index order first exceeds u.
// Thresholds are found by radix selection over the bits of the values, a
// byte at a time (four passes, each a 256-bin histogram of the candidates'
// next byte, scanned from the top by one warp), never by sorting. The
// histograms use shared-memory atomics on 32-bit integers only — the ones
// the hardware does natively (fp32 and fp64 ones are compare-and-swap loops,
// which a few hot bins turn into a millisecond): counts for top-k, and for
// top-p each weight (≤ 1) as a 44-bit fixed-point number 2^-43 apart, added
// as four 11-bit chunks that cannot overflow, so the masses are exact and
// the same in every run. The weights are computed once, in fp32, over the
// logits row in place (logits are not read after sampling); the other sums
// are fp64, reduced through warp shuffles in a fixed order. The CPU
// reference uses fp64 weights and sums, so a threshold or a draw within
// rounding (or 2^-43 per weight) of a boundary may differ.
// Params per row: temperature, top_k, top_p, seed, step. Output: int32 [rows].
// Launch: grid (rows), block 1024. Reference: kernels.SampleRow;
// TestSampleGreedy (exact), TestSampleDistribution, TestSampleMatchesLegacy.
#ifdef ATTN_EMU
#include "emu.h"
#endif
#include "common.cuh"

#define BLOCK 1024
#define WARPS (BLOCK / 32)

__device__ __forceinline__ unsigned int ordered(float f) {
  unsigned int b = __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ float unordered(unsigned int k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

__device__ __forceinline__ double uniform(unsigned long long seed, unsigned long long step) {
  unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (step + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

// sum_all: every thread gets the block's sum, added in a fixed order.
__device__ __forceinline__ double sum_all(double v, double* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
  __syncthreads();  // the previous use of scratch is over
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[lane];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
  return v;
}

__device__ __forceinline__ int max_all(int v, int* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(FULL_MASK, v, o));
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[lane];
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(FULL_MASK, v, o));
  return v;
}

// exclusive_scan: the sum of v over the threads before this one.
__device__ __forceinline__ double exclusive_scan(double v, double* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  double incl = v;
  for (int o = 1; o < 32; o <<= 1) {
    double n = __shfl_up_sync(FULL_MASK, incl, o);
    if (lane >= o) incl += n;
  }
  __syncthreads();
  if (lane == 31) scratch[warp] = incl;
  __syncthreads();
  if (warp == 0) {
    double s = scratch[lane], si = s;
    for (int o = 1; o < 32; o <<= 1) {
      double n = __shfl_up_sync(FULL_MASK, si, o);
      if (lane >= o) si += n;
    }
    scratch[lane] = si - s;
  }
  __syncthreads();
  return scratch[warp] + incl - v;
}

// better keeps the larger value, the lower index on ties (NaN never wins).
__device__ __forceinline__ void better(float& v, int& i, float ov, int oi) {
  if (ov > v || (ov == v && oi < i)) v = ov, i = oi;
}

// pick_digit is warp 0's scan of a byte's 256 bins from the top: the
// largest digit d with above + Σ bins[≥ d] ≥ need (digit 0 when rounding
// leaves even the whole range short), and the mass of the bins above d.
// Lane l holds digits 255 − 8l − i, i = 0..7.
template <typename V>
__device__ __forceinline__ void pick_digit(const V* bins, V above, V need, int* digit, V* over) {
  const int lane = threadIdx.x & 31;
  V c[8], s = 0;
#pragma unroll
  for (int i = 0; i < 8; i++) c[i] = bins[255 - 8 * lane - i], s += c[i];
  V incl = s;
  for (int o = 1; o < 32; o <<= 1) {
    V n = __shfl_up_sync(FULL_MASK, incl, o);
    if (lane >= o) incl += n;
  }
  V run = incl - s;  // the bins above this lane's
  int first = 256;   // the position (from the top) of the first digit that meets need
  V mine = 0;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    const int pos = 8 * lane + i;
    if (first == 256 && (above + run + c[i] >= need || pos == 255)) first = pos, mine = run;
    run += c[i];
  }
  int best = first;
  for (int o = 16; o > 0; o >>= 1) best = min(best, __shfl_xor_sync(FULL_MASK, best, o));
  const V m = __shfl_sync(FULL_MASK, mine, best >> 3);
  if (lane == 0) *digit = 255 - best, *over = above + m;
}

extern "C" __global__ void __launch_bounds__(BLOCK) sample(int* out, float* logits, long vocab, const float* temp,
                                                         const int* top_k, const float* top_p,
                                                         const unsigned long long* seed,
                                                         const unsigned long long* step) {
  __shared__ double scratch[WARPS];
  __shared__ int iscratch[WARPS];
  __shared__ float wv[WARPS];
  __shared__ int wi[WARPS];
  __shared__ unsigned cnt[4][256];  // top-k: cnt[0]; top-p: the four 11-bit chunks of the masses
  __shared__ double mass[256];
  __shared__ int sel_digit;
  __shared__ unsigned sel_count;
  __shared__ double sel_mass;
  const int r = blockIdx.x, t = threadIdx.x, lane = t & 31, warp = t >> 5;
  float* x = logits + (long)r * vocab;
  // Argmax with the lowest index on ties.
  float best = -INFINITY;
  int besti = 0x7fffffff;
  for (long j = t; j < vocab; j += BLOCK) better(best, besti, x[j], (int)j);
  for (int o = 16; o > 0; o >>= 1) {
    float ov = __shfl_xor_sync(FULL_MASK, best, o);
    int oi = __shfl_xor_sync(FULL_MASK, besti, o);
    better(best, besti, ov, oi);
  }
  if (lane == 0) wv[warp] = best, wi[warp] = besti;
  __syncthreads();
  best = wv[lane], besti = wi[lane];
  for (int o = 16; o > 0; o >>= 1) {
    float ov = __shfl_xor_sync(FULL_MASK, best, o);
    int oi = __shfl_xor_sync(FULL_MASK, besti, o);
    better(best, besti, ov, oi);
  }
  const float maxv = best;
  const int argmax = besti;
  const float T = temp[r];
  if (T <= 0.f) {
    if (t == 0) out[r] = argmax;
    return;
  }
  // Top-k: the k-th largest logit, the largest key whose count of values at
  // or above it is >= k, a byte at a time from the top.
  float kth = -INFINITY;
  const int k = top_k[r];
  if (k > 0 && k < vocab) {
    unsigned prefix = 0, above = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int i = t; i < 256; i += BLOCK) cnt[0][i] = 0;
      __syncthreads();
      for (long j = t; j < vocab; j += BLOCK) {
        const unsigned o = ordered(x[j]);
        if (shift == 24 || (o >> (shift + 8)) == prefix) atomicAdd(&cnt[0][(o >> shift) & 255u], 1u);
      }
      __syncthreads();
      if (warp == 0) {
        int d;
        unsigned over;
        pick_digit<unsigned>(cnt[0], above, (unsigned)k, &d, &over);
        if (lane == 0) sel_digit = d, sel_count = over;
      }
      __syncthreads();
      prefix = (prefix << 8) | (unsigned)sel_digit;
      above = sel_count;
    }
    kth = unordered(prefix);
  }
  const float inv = 1.f / T;
  double total = 0;
  for (long j = t; j < vocab; j += BLOCK) {
    const float w = x[j] >= kth ? __expf((x[j] - maxv) * inv) : 0.f;
    x[j] = w;  // each thread rewrites only its own elements
    total += w;
  }
  total = sum_all(total, scratch);
  // Top-p: the largest weight key whose mass of weights at or above it is
  // >= top_p of the total (weights are >= 0: their bits order as unsigned).
  float tau = 0.f;
  const float p = top_p[r];
  if (p > 0.f && p < 1.f) {
    const double target = (double)p * total;
    unsigned prefix = 0;
    double above = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int i = t; i < 4 * 256; i += BLOCK) cnt[i >> 8][i & 255] = 0;
      __syncthreads();
      for (long j = t; j < vocab; j += BLOCK) {
        const float w = x[j];
        const unsigned u = __float_as_uint(w);
        if (w > 0.f && (shift == 24 || (u >> (shift + 8)) == prefix)) {
          const unsigned d = (u >> shift) & 255u;
          const unsigned long long q = (unsigned long long)((double)w * 8796093022208.0);  // w · 2^43, w ≤ 1
#pragma unroll
          for (int c = 0; c < 4; c++) {
            const unsigned part = (unsigned)(q >> (11 * c)) & 2047u;
            if (part) atomicAdd(&cnt[c][d], part);
          }
        }
      }
      __syncthreads();
      for (int i = t; i < 256; i += BLOCK)
        mass[i] = ((double)cnt[0][i] + 2048.0 * cnt[1][i] + 4194304.0 * cnt[2][i] + 8589934592.0 * cnt[3][i]) *
                  1.1368683772161603e-13;  // 2^-43
      __syncthreads();
      if (warp == 0) {
        int d;
        double over;
        pick_digit<double>(mass, above, target, &d, &over);
        if (lane == 0) sel_digit = d, sel_mass = over;
      }
      __syncthreads();
      prefix = (prefix << 8) | (unsigned)sel_digit;
      above = sel_mass;
    }
    tau = __uint_as_float(prefix);
    total = 0;
    for (long j = t; j < vocab; j += BLOCK) {
      const float w = x[j];
      if (w > 0.f && w >= tau) total += w;
    }
    total = sum_all(total, scratch);
  }
  const double u = uniform(seed[r], step[r]) * total;
  // Each thread owns a contiguous chunk; an exclusive scan of chunk masses
  // finds the chunk holding u, whose owner walks it in index order.
  const long chunk = (vocab + BLOCK - 1) / BLOCK;
  const long lo = t * chunk, hi = min(lo + chunk, vocab);
  double mine = 0;
  int last = -1;
  for (long j = lo; j < hi; j++) {
    const float w = x[j];
    if (w > 0.f && w >= tau) mine += w, last = (int)j;
  }
  const double before = exclusive_scan(mine, scratch);
  const int lastKept = max_all(last, iscratch);
  if (t == 0) out[r] = lastKept >= 0 ? lastKept : argmax;  // when rounding leaves u unmet
  __syncthreads();
  if (mine > 0 && u >= before && u < before + mine) {
    double cum = before;
    for (long j = lo; j < hi; j++) {
      const float w = x[j];
      if (w > 0.f && w >= tau) {
        cum += w;
        if (u < cum) {
          out[r] = (int)j;
          break;
        }
      }
    }
  }
}
