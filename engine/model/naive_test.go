package model

import "math"

// The float64 building blocks the naive reference forward passes
// (reference_test.go, llama_reference_test.go) share: whole sequences,
// rows of activations, no cache.

// naiveLinear is y = x·Wᵀ + b for x [rows][in], W [out×in] row-major and b
// [out] or nil.
func naiveLinear(x [][]float64, wt, b []float64, out int) [][]float64 {
	y := make([][]float64, len(x))
	in := len(x[0])
	for r := range x {
		y[r] = make([]float64, out)
		for o := 0; o < out; o++ {
			s := 0.0
			if b != nil {
				s = b[o]
			}
			for i := 0; i < in; i++ {
				s += x[r][i] * wt[o*in+i]
			}
			y[r][o] = s
		}
	}
	return y
}

// naiveAttention is causal softmax(q·kᵀ/√hd)·v per head for q [n][nh·hd]
// and k, v [n][nkv·hd]; query head hh reads KV head hh / (nh / nkv)
// (repeat_kv). It returns [n][nh·hd].
func naiveAttention(q, k, v [][]float64, nh, nkv, hd int) [][]float64 {
	n := len(q)
	att := make([][]float64, n)
	for t := 0; t < n; t++ {
		att[t] = make([]float64, nh*hd)
		for hh := 0; hh < nh; hh++ {
			kh := hh / (nh / nkv)
			scores := make([]float64, t+1)
			mx := math.Inf(-1)
			for s := 0; s <= t; s++ {
				d := 0.0
				for i := 0; i < hd; i++ {
					d += q[t][hh*hd+i] * k[s][kh*hd+i]
				}
				scores[s] = d / math.Sqrt(float64(hd))
				mx = math.Max(mx, scores[s])
			}
			sum := 0.0
			for s := range scores {
				scores[s] = math.Exp(scores[s] - mx)
				sum += scores[s]
			}
			for s := 0; s <= t; s++ {
				for i := 0; i < hd; i++ {
					att[t][hh*hd+i] += scores[s] / sum * v[s][kh*hd+i]
				}
			}
		}
	}
	return att
}
