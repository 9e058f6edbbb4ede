package kernels

import "math"

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

// SampleRow is the reference sampler. Temperature 0 is greedy (Argmax).
// Otherwise, with w_i = exp((x_i − max x)/T):
//   - top-k keeps the tokens whose logit is at least the k-th largest (ties kept);
//   - top-p keeps, of those, the tokens whose weight is at least τ, the
//     smallest weight of the shortest descending prefix holding p of the mass;
//   - u = Uniform(Seed, Step) × kept mass picks the token where the running
//     sum of kept weights, in index order, first exceeds u.
//
// Thresholds are found by selection, not sorting, so a row costs O(vocab).
func SampleRow(row []float32, p SampleParams) int32 {
	if p.Temperature <= 0 {
		return Argmax(row)
	}
	n := len(row)
	kth := float32(math.Inf(-1))
	if p.TopK > 0 && p.TopK < n {
		kth = kthLargest(row, p.TopK)
	}
	maxv := row[Argmax(row)]
	inv := 1 / float64(p.Temperature)
	w := make([]float64, n)
	var total float64
	for i, x := range row {
		if x >= kth {
			w[i] = math.Exp(float64(x-maxv) * inv)
			total += w[i]
		}
	}
	tau := 0.0
	if p.TopP > 0 && p.TopP < 1 {
		kept := make([]float64, 0, n)
		for _, v := range w {
			if v > 0 {
				kept = append(kept, v)
			}
		}
		tau = massThreshold(kept, float64(p.TopP)*total)
		total = 0
		for _, v := range w {
			if v >= tau {
				total += v
			}
		}
	}
	return Draw(w, tau, total, p.Seed, p.Step)
}

// Draw picks the token where the running sum of the kept weights (w > 0 and
// w ≥ tau), in index order, first exceeds Uniform(seed, step) × total; the
// last kept token when rounding leaves the sum short.
func Draw(w []float64, tau, total float64, seed, step uint64) int32 {
	u := Uniform(seed, step) * total
	var cum float64
	last := int32(0)
	for i, v := range w {
		if v > 0 && v >= tau {
			cum += v
			last = int32(i)
			if u < cum {
				return int32(i)
			}
		}
	}
	return last
}

// kthLargest is the k-th largest value of xs (1-based), by quickselect on a copy.
func kthLargest(xs []float32, k int) float32 {
	a := append([]float32(nil), xs...)
	lo, hi := 0, len(a)
	for {
		pivot := a[lo+(hi-lo)/2]
		// Three-way partition of a[lo:hi]: > pivot, == pivot, < pivot.
		gt, i, lt := lo, lo, hi
		for i < lt {
			switch {
			case a[i] > pivot:
				a[gt], a[i] = a[i], a[gt]
				gt++
				i++
			case a[i] < pivot:
				lt--
				a[lt], a[i] = a[i], a[lt]
			default:
				i++
			}
		}
		switch {
		case k <= gt-lo:
			hi = gt
		case k <= lt-lo:
			return pivot
		default:
			k -= lt - lo
			lo = lt
		}
	}
}

// massThreshold returns the smallest weight of the shortest descending
// prefix of xs whose sum reaches target (xs is reordered).
func massThreshold(xs []float64, target float64) float64 {
	lo, hi := 0, len(xs)
	acc := 0.0
	for lo < hi {
		pivot := xs[lo+(hi-lo)/2]
		gt, i, lt := lo, lo, hi
		var sGT, sEQ float64
		for i < lt {
			switch v := xs[i]; {
			case v > pivot:
				sGT += v
				xs[gt], xs[i] = xs[i], xs[gt]
				gt++
				i++
			case v < pivot:
				lt--
				xs[lt], xs[i] = xs[i], xs[lt]
			default:
				sEQ += v
				i++
			}
		}
		switch {
		case acc+sGT >= target && gt > lo:
			hi = gt
		case acc+sGT+sEQ >= target:
			return pivot
		default:
			acc += sGT + sEQ
			lo = lt
		}
	}
	return 0 // rounding left the target unmet: keep everything
}
