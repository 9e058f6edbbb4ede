// Package cuda is the CUDA implementation of kernels.Backend.
//
// The CUDA driver API (libcuda.so.1) and cuBLAS (libcublas.so.13, .12 or .11)
// are loaded at run time with purego, so one binary runs everywhere: where a
// library, a device or a symbol is missing, Open returns an error naming it
// and the caller falls back to the CPU backend. The kernels are CUDA C under
// kernels/cuda/src, compiled to PTX for compute_80 by `go generate` (Debian's
// nvcc 11.8) and embedded; the driver JIT-compiles them for the actual GPU.
//
// Attention (attention.go) runs decode tokens through a persistent split-KV
// kernel and prefill chunks through a flash-style one, both on tensor cores
// (mma.sync, compute_80), with the step's work plan built on the host into
// the step metadata (attention_plan.go) so CUDA graphs replay it. The
// subpackage emu runs those kernels on the CPU for tests without a GPU
// (build tag cudaemu; scripts/emu_attention.sh).
//
// GEMMs go to cuBLAS, except decode-sized ones (at most 64 rows of
// activations): there a table measured on the card at start-up picks, per
// shape, a small-M kernel of our own (gemv_simt.cu, gemv_mma.cu; split-K,
// fused bias, ReLU and residual epilogues) where one beats cuBLAS, timed in
// CUDA graphs between a graph's first capture and its real one, never inside
// a capture (gemv*.go). BENCHTOP_GEMV=off keeps every GEMM on cuBLAS for A/B
// runs; BENCHTOP_GEMV_CACHE keeps the table in a file between runs. The
// backend also fuses the LM head with the greedy argmax (ArgmaxLinear). For
// steps of at most four tokens it fuses a decoder layer's norms, SwiGLU,
// biases, residual adds and OPT's KV write into those GEMMs
// (kernels.DecodeFuser: fused.go, src/gemv_fused.cu; BENCHTOP_FUSE=off for
// A/B). cuBLAS GEMMs of prefill steps run at a ladder of row counts that
// the engine warms up once (gemm_rows.go), since cuBLAS pays for each new
// shape on the host.
//
// Measuring: BENCHTOP_PROFILE_KERNELS times every operation of every step
// between CUDA events (eager steps) and prints a table per kind of step at
// Close; BENCHTOP_CUPROFILE brackets chosen steps with cuProfilerStart/Stop
// for ncu (profile.go). Hot driver and cuBLAS calls go through
// purego.SyscallN (direct.go; BENCHTOP_PUREGO=reflect for A/B).
//
// Threading: a CUDA context is bound to an OS thread. The engine goroutine
// owns the backend; Open locks it to its OS thread (runtime.LockOSThread)
// and every method must be called from that goroutine.
package cuda
