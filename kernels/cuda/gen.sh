#!/bin/sh
# Compiles every kernel source to PTX for compute_80 (the driver JIT-compiles
# it for the actual GPU) and records a hash of the sources it was built from
# — the .cu file and every header in src/, in byte order of their names —
# which TestPTXInStep checks so a stale PTX fails CI without nvcc.
# Needs nvcc (Debian 12: nvidia-cuda-toolkit from contrib/non-free, 11.8).
set -eu
export LC_ALL=C
cd "$(dirname "$0")"
for src in src/*.cu; do
  name=$(basename "$src" .cu)
  nvcc -ptx -arch=compute_80 -O3 -o "ptx/$name.ptx" "$src"
  cat "$src" src/*.cuh | sha256sum | cut -d' ' -f1 > "ptx/$name.sha256"
done
