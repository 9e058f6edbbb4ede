// Package cpu is the pure-Go reference implementation of kernels.Backend.
//
// Tensors are float32 slices in host memory whatever dtype they are
// allocated with (values are rounded to that dtype on upload, so an fp16
// model computes with fp16 weights). Tensors of 1 MiB or more (the KV pool,
// the weights, the large workspace buffers) live in anonymous memory
// mappings outside the Go heap, returned to the system on Free, so the
// garbage collector neither scans them nor lets the heap grow by their size;
// elsewhere they are ordinary slices. The memory budget is checked against
// what the machine has available (Open). Matrix products and attention are
// split over goroutines, one chunk per core. Every CUDA kernel is checked
// against these functions.
package cpu
