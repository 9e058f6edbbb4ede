package kernels

import (
	"math"
	"sort"
)

// Uniform is the reproducible random number in [0, 1) behind a seeded draw:
// a splitmix64 hash of (seed, step). Every backend uses the same function so a
// seeded request samples the same tokens on the CPU and on a GPU, and after a
// preemption replays the same choices.
func Uniform(seed, step uint64) float64 {
	z := seed + 0x9E3779B97F4A7C15*(step+1)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// Argmax is the index of the largest value, the lowest index on ties.
func Argmax(row []float32) int32 {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return int32(best)
}

// SampleRow is the reference sampler: greedy when Temperature is 0, else
// temperature, then top-k, then top-p (nucleus) over the softmax, then one
// draw of Uniform(Seed, Step) along the cumulative distribution, tokens taken
// in descending probability (ties by lower index).
func SampleRow(row []float32, p SampleParams) int32 {
	if p.Temperature <= 0 {
		return Argmax(row)
	}
	idx := make([]int32, len(row))
	for i := range idx {
		idx[i] = int32(i)
	}
	sort.Slice(idx, func(a, b int) bool {
		va, vb := row[idx[a]], row[idx[b]]
		if va != vb {
			return va > vb
		}
		return idx[a] < idx[b]
	})
	keep := len(idx)
	if p.TopK > 0 && p.TopK < keep {
		keep = p.TopK
	}
	inv := 1 / float64(p.Temperature)
	maxv := float64(row[idx[0]]) * inv
	probs := make([]float64, keep)
	var sum float64
	for i := 0; i < keep; i++ {
		probs[i] = math.Exp(float64(row[idx[i]])*inv - maxv)
		sum += probs[i]
	}
	if p.TopP > 0 && p.TopP < 1 {
		var cum float64
		for i := 0; i < keep; i++ {
			cum += probs[i] / sum
			if cum >= float64(p.TopP) {
				keep = i + 1
				break
			}
		}
		sum = 0
		for i := 0; i < keep; i++ {
			sum += probs[i]
		}
	}
	u := Uniform(p.Seed, p.Step) * sum
	var cum float64
	for i := 0; i < keep; i++ {
		cum += probs[i]
		if u < cum {
			return idx[i]
		}
	}
	return idx[keep-1]
}
