// Package kernels is the device boundary of benchtop's engine.
//
// It defines the Backend interface that the model runner is written against
// (device memory, embedding, layer norm, matmul, activation, paged KV-cache
// write, attention over the paged cache, logits gather and sampling) and the
// per-step metadata (Batch) every backend reads. Implementations live in
// sub-packages: kernels/cpu is the pure-Go reference that every device kernel
// is tested against.
//
// It also holds what every backend shares: the sampler's definition
// (SampleRow, which the CPU backend runs and the CUDA sampler is tested
// against; AVX2 where there is AVX2, with bit-identical Go twins), the
// seeded Uniform draw, and half-precision conversions.
//
// A Backend is not safe for concurrent use: the engine goroutine owns it and
// makes every call (a CUDA backend also pins that goroutine to its OS thread).
package kernels
