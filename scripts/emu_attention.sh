#!/bin/sh
# Runs the CUDA kernel tests that the CPU kernel emulator takes
# (kernels/cuda/emu: attention, the fused small-M GEMMs, sampling, the
# kernel profile): no GPU needed; cgo, g++ and the CUDA headers
# (cuda_fp16.h) are.
# Go's build cache does not see the kernel sources the emulator #includes
# from kernels/cuda/src, so their hash goes into CGO_CXXFLAGS, which it does.
#   scripts/emu_attention.sh [go test flags, e.g. -run AttentionDecode -v]
set -eu
cd "$(dirname "$0")/.."
hash=$(cat kernels/cuda/src/*.cu kernels/cuda/src/*.cuh kernels/cuda/emu/*.cpp kernels/cuda/emu/*.h | sha256sum | cut -c1-16)
export CGO_CXXFLAGS="-DATTN_SRC_HASH=$hash"
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
exec go test -tags cudaemu ./kernels/cuda -run "${RUN:-Attention|Fused|SampleKernels|KernelProfile}" "$@"
