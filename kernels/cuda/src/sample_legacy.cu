// sample_legacy: the sampling kernel sample.cu replaced (a bit at a time radix
// selection, tree reductions), kept for A/B runs (BENCHTOP_SAMPLE=legacy).
// One token per row of fp32 logits [rows, vocab], the same
// definition as kernels.SampleRow:
//   temperature <= 0: argmax, lowest index on ties;
//   else w_j = exp((x_j - max x) / T) for x_j >= the k-th largest logit
//   (top-k; ties kept), then only w_j >= tau where tau is the smallest weight
//   of the shortest descending prefix holding top_p of the mass (top-p), and
//   u = Uniform(seed, step) * kept mass picks the token where the running sum
//   in index order first exceeds u.
// Thresholds are found by radix selection over the bits of the values (one
// counting or summing pass per bit), never by sorting. The weights are
// computed once, in fp32, over the logits row in place (logits are not read
// after sampling); sums are fp64. The CPU reference uses fp64 weights, so a
// draw that lands within rounding of a boundary may differ.
// Params per row: temperature, top_k, top_p, seed, step. Output: int32 [rows].
// Launch: grid (rows), block 1024. Reference: kernels.SampleRow;
// TestSampleGreedy (exact), TestSampleDistribution.
#include "common.cuh"

#define BLOCK 1024

__device__ __forceinline__ unsigned int ordered(float f) {
  unsigned int b = __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ float unordered(unsigned int k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

__device__ double uniform(unsigned long long seed, unsigned long long step) {
  unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (step + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

__device__ double block_sum_d(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = BLOCK / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}

extern "C" __global__ void __launch_bounds__(BLOCK) sample_legacy(int* out, float* logits, long vocab, const float* temp,
                                                         const int* top_k, const float* top_p,
                                                         const unsigned long long* seed,
                                                         const unsigned long long* step) {
  __shared__ double sh[BLOCK];
  __shared__ float bv[BLOCK];
  __shared__ int bi[BLOCK];
  int r = blockIdx.x, t = threadIdx.x;
  float* x = logits + (long)r * vocab;
  // Argmax with the lowest index on ties.
  float best = -INFINITY;
  int besti = 0x7fffffff;
  for (long j = t; j < vocab; j += BLOCK) {
    float v = x[j];
    if (v > best || (v == best && j < besti)) best = v, besti = (int)j;
  }
  bv[t] = best, bi[t] = besti;
  __syncthreads();
  for (int s = BLOCK / 2; s > 0; s >>= 1) {
    if (t < s) {
      float ov = bv[t + s];
      int oi = bi[t + s];
      if (ov > bv[t] || (ov == bv[t] && oi < bi[t])) bv[t] = ov, bi[t] = oi;
    }
    __syncthreads();
  }
  float maxv = bv[0];
  int argmax = bi[0];
  float T = temp[r];
  if (T <= 0.f) {
    if (t == 0) out[r] = argmax;
    return;
  }
  // Top-k: the largest key whose count of values at or above it is >= k.
  float kth = -INFINITY;
  int k = top_k[r];
  if (k > 0 && k < vocab) {
    unsigned int key = 0;
    for (int bit = 31; bit >= 0; bit--) {
      unsigned int cand = key | (1u << bit);
      double c = 0;
      for (long j = t; j < vocab; j += BLOCK) c += ordered(x[j]) >= cand ? 1.0 : 0.0;
      if (block_sum_d(c, sh) >= k) key = cand;
    }
    kth = unordered(key);
  }
  float inv = 1.f / T;
  double total = 0;
  for (long j = t; j < vocab; j += BLOCK) {
    float w = x[j] >= kth ? __expf((x[j] - maxv) * inv) : 0.f;
    x[j] = w;  // each thread rewrites only its own elements
    total += w;
  }
  total = block_sum_d(total, sh);
#define WEIGHT(j) (x[j])
  float tau = 0.f;
  float p = top_p[r];
  if (p > 0.f && p < 1.f) {
    double target = (double)p * total;
    unsigned int key = 0;  // weights are >= 0: their bits order as unsigned
    for (int bit = 30; bit >= 0; bit--) {
      unsigned int cand = key | (1u << bit);
      double m = 0;
      for (long j = t; j < vocab; j += BLOCK) {
        float w = WEIGHT(j);
        if (__float_as_uint(w) >= cand) m += w;
      }
      if (block_sum_d(m, sh) >= target) key = cand;
    }
    tau = __uint_as_float(key);
    total = 0;
    for (long j = t; j < vocab; j += BLOCK) {
      float w = WEIGHT(j);
      if (w > 0.f && w >= tau) total += w;
    }
    total = block_sum_d(total, sh);
  }
  double u = uniform(seed[r], step[r]) * total;
  // Each thread owns a contiguous chunk; an exclusive scan of chunk masses
  // finds the chunk holding u, whose owner walks it in index order.
  long chunk = (vocab + BLOCK - 1) / BLOCK;
  long lo = t * chunk, hi = min(lo + chunk, vocab);
  double mine = 0;
  int last = -1;
  for (long j = lo; j < hi; j++) {
    float w = WEIGHT(j);
    if (w > 0.f && w >= tau) mine += w, last = (int)j;
  }
  sh[t] = mine;
  bi[t] = last;
  __syncthreads();
  if (t == 0) {
    double acc = 0;
    int lastKept = argmax;
    for (int i = 0; i < BLOCK; i++) {
      double m = sh[i];
      sh[i] = acc;
      acc += m;
      if (bi[i] >= 0) lastKept = bi[i];
    }
    bi[0] = lastKept;  // fallback when rounding leaves u unmet
    out[r] = lastKept;
  }
  __syncthreads();
  double before = sh[t];
  if (mine > 0 && u >= before && u < before + mine) {
    double cum = before;
    for (long j = lo; j < hi; j++) {
      float w = WEIGHT(j);
      if (w > 0.f && w >= tau) {
        cum += w;
        if (u < cum) {
          out[r] = (int)j;
          break;
        }
      }
    }
  }
#undef WEIGHT
}
