// Package kernels is the device boundary of benchtop's engine.
//
// It defines the Backend interface that the model runner is written against
// (device memory, embedding, layer norm and RMSNorm with the residual add,
// matmul, activations (bias + ReLU, SwiGLU), the QKV prep that adds biases,
// norms Q/K heads, applies rotary embeddings and writes the paged KV cache,
// attention over the paged cache, logits gather and sampling) and the
// per-step metadata (Batch) every backend reads. Implementations live in
// sub-packages: kernels/cpu is the pure-Go reference that every device kernel
// is tested against.
//
// Optional capabilities sit beside it as small interfaces a backend may
// implement and a caller checks for: Grapher (CUDA graphs), Timer,
// CeilingMeter, LinearEpiloguer (a GEMM with its bias, ReLU and residual
// fused) and ArgmaxLinearer (the LM head with greedy sampling fused).
//
// A Backend is not safe for concurrent use: the engine goroutine owns it and
// makes every call (a CUDA backend also pins that goroutine to its OS thread).
package kernels
