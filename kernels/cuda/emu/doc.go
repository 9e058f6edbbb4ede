// Package emu runs the CUDA attention kernels (kernels/cuda/src/attention*.cu)
// on the CPU, to check their index arithmetic, MMA fragment layouts and
// synchronisation on a machine without a GPU. The kernels compile as host
// C++ against emu.h; a block's threads run as fibers on one OS thread that
// switch at barriers and warp collectives; shared memory starts as NaN;
// cp.async copies land at the latest moment the hardware may make them; and
// device allocations carry guard bytes.
//
// It needs cgo, g++ and the CUDA headers (cuda_fp16.h), and builds only with
// the cudaemu tag on amd64: `go test -tags cudaemu ./kernels/cuda -run
// Attention` runs the attention GPU tests against it (kernels/cuda's
// emu_test.go puts it behind the driver API the backend calls).
package emu
