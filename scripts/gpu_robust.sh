#!/usr/bin/env bash
# The robustness branch's GPU checks (the GPU machine has no Go: build here
#   go test -c -o bin/cuda.test ./kernels/cuda && go test -c -o bin/engine.test ./engine
# and carry bin/). Success: "--- PASS: TestSample" with "sampled: 62 (or more)
# of 64 rows equal the CPU reference" (the CPU sampler now computes float32
# weights as the GPU does, so 64 is expected), and "--- PASS: TestChaosGPU"
# with its summary line (requests, steps, changes, refusals, pool range).
set -o pipefail; R=$PWD
(cd kernels/cuda && timeout 120 $R/bin/cuda.test -test.run 'TestSample$' -test.v 2>&1 | grep -E "^(---|ok|FAIL|PASS)|sampled|row ")
(cd engine && timeout 300 $R/bin/engine.test -test.run 'TestChaosGPU|CUDA' -test.v -chaos.duration=60s 2>&1 | grep -E "^(---|ok|FAIL|PASS)|gpu_test|chaos_test|parted")
