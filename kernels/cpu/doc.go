// Package cpu is the pure-Go reference implementation of kernels.Backend.
//
// Tensors are float32 slices in host memory whatever dtype they are
// allocated with (values are rounded to that dtype on upload, so an fp16
// model computes with fp16 weights). Matrix products and attention are split
// over goroutines, one chunk per core. Every CUDA kernel is checked against
// these functions.
package cpu
