package cuda

import "os"

// cuBLAS pays for the first GEMM of each new shape on the host — its
// heuristics, and loading the kernel it picks (CUDA loads modules lazily) —
// about 0.3 ms to several ms, measured inside the first 900-token prefill
// of the bench (BENCHMARKS.md). A prefill step's row count is whatever the
// scheduler batched, so every step met new shapes. Rounding the rows up to
// a short ladder of sizes, which the engine's start-up warm-up runs once
// (WarmTokenCounts), keeps every step on shapes met before; the extra rows
// (at most an eighth of the GEMM above 256 rows) read and write the unused
// rows of the step's workspace buffers, and nothing reads their results.

// gemmRowBucket is the row count a GEMM of n rows runs at: n up to 4 as the
// decode graph buckets round it (1, 2, 4), then multiples of 8 up to 256
// (the graph buckets, met at start-up by the captures), multiples of 128 up
// to 2048, then of 512.
func gemmRowBucket(n int) int {
	switch {
	case n <= 256:
		return gemvBucket(n)
	case n <= 2048:
		return ceilDiv(n, 128) * 128
	}
	return ceilDiv(n, 512) * 512
}

// gemmRowsEnv set to "exact" runs every GEMM at its own row count, for A/B
// runs.
const gemmRowsEnv = "BENCHTOP_GEMM_ROWS"

var exactGemmRows = os.Getenv(gemmRowsEnv) == "exact"

// gemmRows is the rows a cuBLAS GEMM of n rows of x into out runs on: the
// bucket, where both buffers hold that many rows, else n.
func gemmRows(n int, x, out *Tensor) int {
	r := gemmRowBucket(n)
	if exactGemmRows {
		return n
	}
	if r > x.capRows || r > out.capRows {
		return n
	}
	return r
}

// WarmTokenCounts lists the prefill sizes above 256 tokens, up to
// maxTokens, whose GEMM shapes a step can meet (gemmRowBucket), and
// maxTokens itself: the engine runs each once at start-up
// (kernels.PrefillWarmer). Smaller ones are the decode graphs' sizes.
func (b *Backend) WarmTokenCounts(maxTokens int) []int {
	var out []int
	for n := 257; n <= maxTokens; {
		r := gemmRowBucket(n)
		if r > maxTokens {
			break
		}
		out = append(out, r)
		n = r + 1
	}
	if len(out) > 0 && out[len(out)-1] < maxTokens {
		out = append(out, maxTokens) // a full step: as many tokens as a step takes
	}
	return out
}
