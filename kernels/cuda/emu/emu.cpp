//go:build cudaemu && amd64

// The kernel emulator: runs the attention kernels on the CPU, one block at a
// time, its threads as fibers on one OS thread that switch only at barriers
// and warp collectives. Shared memory starts as NaN bytes each block;
// device allocations carry guard bytes. It checks index
// arithmetic, fragment layouts and synchronisation, not speed or races
// between blocks. Threads resume in a seeded pseudo-random order, and a
// thread's copies land at random between their issue and their wait.
#include "emu.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "attention_decode.cu"
#include "attention_prefill.cu"
#include "sample.cu"
#include "gemv_fused.cu"
#include "emu_api.h"

emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

// emu_swap saves the callee-saved registers and the stack pointer in *save
// and resumes the context whose stack pointer is to.
extern "C" void emu_swap(void** save, void* to);
asm(R"(
  .text
  .globl emu_swap
  .type emu_swap, @function
emu_swap:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size emu_swap, .-emu_swap
)");

namespace {

struct Copy {
  void* dst;
  const void* src;
  bool valid;
};

struct Fiber {
  void* sp = nullptr;
  int tid = 0;
  bool done = false;
  std::vector<std::vector<Copy>> groups;  // committed, oldest first
  std::vector<Copy> open;
};

struct Bar {
  int arrived = 0;
  unsigned gen = 0;
};

constexpr size_t kStack = 256 << 10;
constexpr size_t kGuard = 64;

std::vector<Fiber> fibers;
std::vector<char*> stacks;
void* sched_sp;
int cur = -1;
int live = 0;
int warp_live[32];
Bar block_bar, warp_bar[32];
unsigned long events = 0;
const std::function<void()>* body;
std::vector<unsigned char> dyn;  // dynamic shared memory plus a guard
size_t dyn_size = 0;
std::string err;
struct Exchange {
  uint64_t v[32][8];
} xch[32];

std::map<uintptr_t, size_t> allocs;  // base (past the guard) → size
uint64_t rng = 0x9e3779b97f4a7c15ull;

uint64_t next_rand() {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return rng >> 33;
}

void fail(const std::string& m) {
  if (err.empty()) err = m;
}

void apply(const std::vector<Copy>& g);
uint64_t next_rand();

// yield_spin gives way to the other threads. A thread's cp.async copies
// land at some point between their issue and their wait: here, at random,
// or at the wait.
void yield_spin() {
  Fiber& f = fibers[cur];
  if (next_rand() & 1) {
    for (auto& g : f.groups) apply(g);
    for (auto& g : f.groups) g.clear();
    apply(f.open);
    f.open.clear();
  }
  emu_swap(&f.sp, sched_sp);
}

void bar_wait(Bar& b, const int& count) {
  unsigned gen = b.gen;
  events++;
  if (++b.arrived >= count) {
    b.arrived = 0;
    b.gen++;
    return;
  }
  while (b.gen == gen) yield_spin();
}

void release_if_complete(Bar& b, int count) {
  if (b.arrived > 0 && b.arrived >= count) {
    b.arrived = 0;
    b.gen++;
  }
}

Fiber& me() { return fibers[cur]; }

int warp_of_me() {
  int w = me().tid / 32;
  if (warp_live[w] != 32) fail("a warp collective with exited lanes");
  return w;
}

void warp_wait(int w) { bar_wait(warp_bar[w], warp_live[w]); }

void apply(const std::vector<Copy>& g) {
  for (const Copy& c : g) {
    if (c.valid)
      std::memcpy(c.dst, c.src, 16);
    else
      std::memset(c.dst, 0, 16);
  }
}

bool in_dyn(const void* p, size_t n) {
  auto a = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(dyn.data());
  return a >= base && a + n <= base + dyn_size;
}

bool in_alloc(const void* p, size_t n) {
  auto a = reinterpret_cast<uintptr_t>(p);
  auto it = allocs.upper_bound(a);
  if (it == allocs.begin()) return false;
  --it;
  return a >= it->first && a + n <= it->first + it->second;
}

float half_bits(uint16_t h, bool bf16) {
  if (bf16) {
    uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  half x;
  std::memcpy(&x, &h, 2);
  return __half2float(x);
}

}  // namespace

extern "C" void emu_fiber_entry() {
  (*body)();
  Fiber& f = fibers[cur];
  bool pending = !f.open.empty();
  for (auto& g : f.groups) pending = pending || !g.empty();
  if (pending) fail("a thread exited with cp.async copies pending");
  f.done = true;
  live--;
  warp_live[f.tid / 32]--;
  events++;
  release_if_complete(block_bar, live);
  release_if_complete(warp_bar[f.tid / 32], warp_live[f.tid / 32]);
  emu_swap(&f.sp, sched_sp);
  std::abort();  // never resumed
}

void __syncthreads() { bar_wait(block_bar, live); }

unsigned char* emu_dyn_smem() { return dyn.data(); }

namespace attn {

void cp_async16(void* dst, const void* src, bool valid) {
  if (reinterpret_cast<uintptr_t>(dst) % 16 != 0 || !in_dyn(dst, 16)) fail("cp.async to a bad shared address");
  if (valid && (reinterpret_cast<uintptr_t>(src) % 16 != 0 || !in_alloc(src, 16))) {
    fail("cp.async from a bad global address");
    valid = false;
  }
  if (!in_dyn(dst, 16)) return;
  me().open.push_back({dst, src, valid});
}

void cp_async_commit() {
  Fiber& f = me();
  f.groups.push_back(std::move(f.open));
  f.open.clear();
}

void emu_cp_async_wait(int n) {
  Fiber& f = me();
  while ((int)f.groups.size() > n) {
    apply(f.groups.front());
    f.groups.erase(f.groups.begin());
  }
}

static void ldsm(uint32_t* r, const void* p, int nmat, bool trans) {
  int w = warp_of_me(), l = me().tid % 32;
  xch[w].v[l][0] = reinterpret_cast<uintptr_t>(p);
  warp_wait(w);
  for (int j = 0; j < nmat; j++) {
    const uint16_t* rows[8];
    bool ok = true;
    for (int i = 0; i < 8; i++) {
      rows[i] = reinterpret_cast<const uint16_t*>(xch[w].v[j * 8 + i][0]);
      if (reinterpret_cast<uintptr_t>(rows[i]) % 16 != 0 || !in_dyn(rows[i], 16)) ok = false;
    }
    if (!ok) {
      fail("ldmatrix from a bad shared address");
      r[j] = 0;
      continue;
    }
    uint16_t lo, hi;
    if (!trans) {
      lo = rows[l / 4][2 * (l % 4)];
      hi = rows[l / 4][2 * (l % 4) + 1];
    } else {
      lo = rows[2 * (l % 4)][l / 4];
      hi = rows[2 * (l % 4) + 1][l / 4];
    }
    r[j] = uint32_t(lo) | uint32_t(hi) << 16;
  }
  warp_wait(w);
}

void ldsm_x4(uint32_t* r, const void* p) { ldsm(r, p, 4, false); }
void ldsm_x2(uint32_t* r, const void* p) { ldsm(r, p, 2, false); }
void ldsm_x4_t(uint32_t* r, const void* p) { ldsm(r, p, 4, true); }

// emu_mma follows the m16n8k16 fragment layout: lane 4g+t holds A[g][2t..]
// (a0), A[g+8][2t..] (a1), A[g][2t+8..] (a2), A[g+8][2t+8..] (a3),
// B[2t..][g] (b0), B[2t+8..][g] (b1), D[g][2t..] (d0, d1), D[g+8][2t..].
void emu_mma(float* d, const uint32_t* a, const uint32_t* b, bool bf16) {
  int w = warp_of_me(), l = me().tid % 32;
  for (int i = 0; i < 4; i++) xch[w].v[l][i] = a[i];
  xch[w].v[l][4] = b[0];
  xch[w].v[l][5] = b[1];
  warp_wait(w);
  auto half_of = [&](int lane, int slot, int k) {
    uint32_t x = uint32_t(xch[w].v[lane][slot]);
    return half_bits((k & 1) ? uint16_t(x >> 16) : uint16_t(x & 0xffff), bf16);
  };
  auto A = [&](int row, int k) { return half_of((row % 8) * 4 + (k % 8) / 2, (row >= 8) + 2 * (k >= 8), k); };
  auto B = [&](int k, int col) { return half_of(col * 4 + (k % 8) / 2, 4 + (k >= 8), k); };
  int g = l / 4, t = l % 4;
  float out[4];
  for (int c = 0; c < 4; c++) {
    int row = g + (c >> 1) * 8, col = 2 * t + (c & 1);
    float s = d[c];
    for (int k = 0; k < 16; k++) s += A(row, k) * B(k, col);
    out[c] = s;
  }
  warp_wait(w);
  for (int c = 0; c < 4; c++) d[c] = out[c];
}

float shfl_xor(float v, int m) {
  int w = warp_of_me(), l = me().tid % 32;
  uint32_t u;
  std::memcpy(&u, &v, 4);
  xch[w].v[l][0] = u;
  warp_wait(w);
  uint32_t r = uint32_t(xch[w].v[l ^ m][0]);
  warp_wait(w);
  float f;
  std::memcpy(&f, &r, 4);
  return f;
}

}  // namespace attn

uint64_t emu_shfl64(uint64_t v, int mode, int arg) {
  int w = warp_of_me(), l = me().tid % 32;
  xch[w].v[l][0] = v;
  warp_wait(w);
  int src = l;
  switch (mode) {
    case 0:
      src = l ^ arg;
      break;
    case 1:
      src = l - arg >= 0 ? l - arg : l;
      break;
    default:
      src = arg & 31;
  }
  uint64_t r = xch[w].v[src & 31][0];
  warp_wait(w);
  return r;
}

void emu_syncwarp() { warp_wait(warp_of_me()); }

namespace {

// run_block runs one block of n threads to completion; false on a deadlock.
bool run_block(int n) {
  while ((int)stacks.size() < n) stacks.push_back(static_cast<char*>(std::malloc(kStack)));
  fibers.assign(n, Fiber{});
  live = n;
  for (int w = 0; w < 32; w++) {
    warp_live[w] = std::max(0, std::min(32, n - 32 * w));
    warp_bar[w] = Bar{};
  }
  block_bar = Bar{};
  for (int i = 0; i < n; i++) {
    Fiber& f = fibers[i];
    f.tid = i;
    auto top = (reinterpret_cast<uintptr_t>(stacks[i]) + kStack) & ~uintptr_t(15);
    auto* sp = reinterpret_cast<uint64_t*>(top);
    *--sp = 0;  // the entry's return address: it never returns
    *--sp = reinterpret_cast<uint64_t>(&emu_fiber_entry);
    for (int r = 0; r < 6; r++) *--sp = 0;
    f.sp = sp;
  }
  // Each pass resumes the threads in a new pseudo-random order, so that a
  // missing barrier shows whichever thread runs first.
  std::vector<int> order(n);
  for (int i = 0; i < n; i++) order[i] = i;
  // A thread sits a pass out now and then, so that warps doing the same
  // work drift apart as they may on the hardware.
  int remaining = n, idle_passes = 0;
  while (remaining > 0) {
    unsigned long before = events;
    for (int k = n - 1; k > 0; k--) std::swap(order[k], order[int(next_rand() % uint64_t(k + 1))]);
    for (int i : order) {
      if (fibers[i].done || next_rand() % 4 == 0) continue;
      cur = i;
      int t = fibers[i].tid;
      threadIdx = {unsigned(t) % blockDim.x, unsigned(t) / blockDim.x % blockDim.y, unsigned(t) / (blockDim.x * blockDim.y)};
      emu_swap(&sched_sp, fibers[i].sp);
      if (fibers[i].done) remaining--;
    }
    idle_passes = events == before ? idle_passes + 1 : 0;
    if (remaining > 0 && idle_passes > 64) {
      fail("deadlock: every live thread waits at a barrier the others do not reach");
      return false;
    }
  }
  return true;
}

bool run_grid(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned smem,
              const std::function<void()>& fn) {
  gridDim = {gx, gy, gz};
  blockDim = {bx, by, bz};
  body = &fn;
  dyn_size = smem;
  for (unsigned z = 0; z < gz; z++)
    for (unsigned y = 0; y < gy; y++)
      for (unsigned x = 0; x < gx; x++) {
        blockIdx = {x, y, z};
        dyn.assign(smem + kGuard, 0xff);  // NaN in fp32, fp16 and bf16
        if (!run_block(int(bx * by * bz))) return false;
        for (size_t i = smem; i < smem + kGuard; i++)
          if (dyn[i] != 0xff) {
            fail("a write past the dynamic shared memory");
            break;
          }
        if (!err.empty()) return false;
      }
  return true;
}

struct Kernel {
  const char* name;
  int nargs;
  void (*run)(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, const uint64_t*);
};

template <typename... A, size_t... I>
std::tuple<A...> unpack(const uint64_t* vals, std::index_sequence<I...>) {
  std::tuple<A...> t;
  ((std::memcpy(&std::get<I>(t), &vals[I], sizeof(A))), ...);
  return t;
}

template <auto K, typename... A>
void run_kernel(void (*)(A...), unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                unsigned smem, const uint64_t* vals) {
  auto args = unpack<A...>(vals, std::index_sequence_for<A...>{});
  std::function<void()> fn = [&] { std::apply(K, args); };
  run_grid(gx, gy, gz, bx, by, bz, smem, fn);
}

template <typename... A>
constexpr int nargs_of(void (*)(A...)) {
  return sizeof...(A);
}

#define EMU_KERNEL(k)                                                                                \
  Kernel {                                                                                           \
    #k, nargs_of(k), [](unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, \
                        unsigned smem, const uint64_t* vals) {                                       \
      run_kernel<k>(k, gx, gy, gz, bx, by, bz, smem, vals);                                          \
    }                                                                                                \
  }

const Kernel kernels[] = {
    EMU_KERNEL(attn_decode_f16_d64),   EMU_KERNEL(attn_decode_f16_d128),   EMU_KERNEL(attn_decode_f16_d256),
    EMU_KERNEL(attn_decode_bf16_d64),  EMU_KERNEL(attn_decode_bf16_d128),  EMU_KERNEL(attn_decode_bf16_d256),
    EMU_KERNEL(attn_prefill_f16_d64),
    EMU_KERNEL(attn_prefill_f16_d128), EMU_KERNEL(attn_prefill_f16_d256),  EMU_KERNEL(attn_prefill_bf16_d64),
    EMU_KERNEL(attn_prefill_bf16_d128), EMU_KERNEL(attn_prefill_bf16_d256),
    EMU_KERNEL(sample),
#define EMU_FUSED(TN, MT) \
  EMU_KERNEL(gemv_fused_##TN##_m##MT##_r1), EMU_KERNEL(gemv_fused_##TN##_m##MT##_r2), EMU_KERNEL(gemv_fused_##TN##_m##MT##_r4)
    EMU_FUSED(f16, 1), EMU_FUSED(f16, 2), EMU_FUSED(f16, 4), EMU_FUSED(bf16, 1), EMU_FUSED(bf16, 2), EMU_FUSED(bf16, 4),
#undef EMU_FUSED
};

void put_msg(const std::string& m, char* msg, int len) {
  if (len <= 0) return;
  std::snprintf(msg, size_t(len), "%s", m.c_str());
}

}  // namespace

extern "C" {

uintptr_t emu_malloc(uint64_t n) {
  auto* p = static_cast<unsigned char*>(std::malloc(n + 2 * kGuard));
  if (!p) return 0;
  std::memset(p, 0xab, kGuard);
  std::memset(p + kGuard + n, 0xab, kGuard);
  auto base = reinterpret_cast<uintptr_t>(p + kGuard);
  allocs[base] = n;
  return base;
}

void emu_free(uintptr_t p) {
  if (allocs.erase(p)) std::free(reinterpret_cast<unsigned char*>(p) - kGuard);
}

void emu_copy_in(uintptr_t dst, const void* src, uint64_t n) { std::memcpy(reinterpret_cast<void*>(dst), src, n); }

void emu_copy_out(void* dst, uintptr_t src, uint64_t n) { std::memcpy(dst, reinterpret_cast<const void*>(src), n); }

void emu_copy(uintptr_t dst, uintptr_t src, uint64_t n) {
  std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), n);
}

void emu_memset16(uintptr_t dst, uint16_t v, uint64_t n) {
  auto* p = reinterpret_cast<uint16_t*>(dst);
  for (uint64_t i = 0; i < n; i++) p[i] = v;
}

int emu_check_guards(char* msg, int len) {
  for (auto& [base, n] : allocs) {
    auto* p = reinterpret_cast<unsigned char*>(base);
    for (size_t i = 0; i < kGuard; i++) {
      if (p[-1 - long(i)] != 0xab || p[n + i] != 0xab) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "a write outside the %zu-byte allocation at %#zx", n, size_t(base));
        put_msg(buf, msg, len);
        return 1;
      }
    }
  }
  return 0;
}

void* emu_host_alloc(uint64_t n) { return std::calloc(1, n); }

void emu_host_free(void* p) { std::free(p); }

int emu_kernel(const char* name, int* nargs) {
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
    if (std::string(kernels[i].name) == name) {
      *nargs = kernels[i].nargs;
      return int(i);
    }
  return -1;
}

int emu_launch(int id, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned smem,
               const uint64_t* vals, char* msg, int len) {
  err.clear();
  if (id < 0 || id >= int(sizeof kernels / sizeof kernels[0])) {
    put_msg("not an emulated kernel", msg, len);
    return 1;
  }
  kernels[id].run(gx, gy, gz, bx, by, bz, smem, vals);
  if (!err.empty()) {
    put_msg(std::string(kernels[id].name) + ": " + err, msg, len);
    return 1;
  }
  return 0;
}

}  // extern "C"
