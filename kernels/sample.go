package kernels

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"sort"
	"sync"
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

// SampleRow draws one token from a row of logits, with the CUDA sampler's
// definition (kernels/cuda/src/sample.cu). Temperature 0 is greedy
// (Argmax). Otherwise, with the weight w_i = exp((x_i − max x)/T) computed
// in float32 (see weight):
//   - top-k (0 < k < n) keeps the tokens whose logit is at least the k-th
//     largest (ties kept);
//   - top-p (0 < p < 1) keeps, of those, the tokens whose weight is at
//     least τ, the smallest weight of the shortest descending prefix holding
//     p of their mass;
//   - u = Uniform(Seed, Step) × kept mass picks the token where the running
//     sum of kept weights, in index order, first exceeds u (the last kept
//     token when rounding leaves the sum short).
//
// Sums are float64; their order is not part of the definition (the CPU and
// the GPU differ in it), so a draw within rounding of a boundary may differ.
//
// Nothing sorts the row. The maximum, the weights and threshold masks are
// single passes (AVX2 where there is AVX2); the k-th logit is selected among
// the logits above a guess from a sample of the row, and τ among the weights
// above (1−p)·mass/n, which every weight of the top-p set exceeds (the rest
// together hold less than 1−p of the mass). So a row costs a few passes over
// the vocabulary, not a sort.
func SampleRow(row []float32, p SampleParams) int32 {
	if t := sampleRow(row, p); t >= 0 && int(t) < len(row) {
		return t
	}
	return Argmax(row) // no token has a weight: the row holds NaNs
}

func sampleRow(row []float32, p SampleParams) int32 {
	if p.Temperature <= 0 || len(row) == 0 {
		return Argmax(row)
	}
	s := scratchPool.Get().(*sampleScratch)
	defer scratchPool.Put(s)
	return s.sample(row, p)
}

// sample draws a token from row with s as its scratch, which may be left
// longer, and dirty, by an earlier row.
func (s *sampleScratch) sample(row []float32, p SampleParams) int32 {
	n := len(row)
	s.reserve(n)
	maxv := rowMax(row)
	inv := float32(1) / p.Temperature
	topP := p.TopP > 0 && p.TopP < 1
	kth := float32(math.Inf(-1))
	if p.TopK > 0 && p.TopK < n {
		idx := s.topK(row, p.TopK)
		if len(idx) <= n/8 { // few kept: work on them alone
			w := s.cw[:len(idx)]
			var total float64
			for j, i := range idx {
				w[j] = weight(row[i], maxv, inv)
				total += float64(w[j])
			}
			target := 0.0
			if topP {
				target = float64(p.TopP) * total
			}
			return s.drawList(idx, w, total, target, p)
		}
		kth = float32(math.Inf(1))
		for _, i := range idx {
			kth = min(kth, row[i])
		}
	}
	total := s.expRow(row, maxv, inv, kth)
	w := s.w[:n]
	tiny := float32(math.SmallestNonzeroFloat32)
	if !topP {
		s.bracket(w, tiny, tiny)
		return s.drawBlocks(w, tiny, p)
	}
	// τ lies in a bracket [lo, hi): the weights ≥ hi hold less than the
	// target, those ≥ lo at least it. It is estimated from a strided sample
	// of the weights, checked on the whole row, and moved or widened when
	// the sample misled.
	target := float64(p.TopP) * total
	s.sampleWeights(w)
	lo, hi := s.estimateBelow(float32(math.Inf(1)), target, total)
	idx, above := s.bracket(w, lo, hi)
	for {
		vals := s.cw[:len(idx)]
		within := 0.0
		for j, i := range idx {
			vals[j] = w[i]
			within += float64(vals[j])
		}
		switch {
		case above >= target && !math.IsInf(float64(hi), 1):
			// τ is higher: the bracket is the weights above, already marked.
			lo, hi = hi, float32(math.Inf(1))
			idx, above = s.setBits(s.above[:(n+63)/64*8]), 0 // this row's bits: the scratch may be longer
			clear(s.blocks)
			continue
		case above+within < target && lo > tiny:
			lo, hi = s.estimateBelow(lo, target-above-within, total-above-within)
			idx, above = s.bracket(w, lo, hi)
			continue
		}
		// τ among the bracket's weights: the shortest descending prefix
		// reaching what the weights above it leave of the target.
		tau := max(tiny, s.thresholdIn(vals, lo, target-above))
		for _, i := range idx {
			if w[i] >= tau {
				s.blocks[int(i)/drawBlock] += float64(w[i])
			}
		}
		return s.drawBlocks(w, tau, p)
	}
}

// sampleScratch is one row's working memory, pooled so a step allocates
// nothing per row.
type sampleScratch struct {
	w       []float32 // the row's weights
	cw      []float32 // candidates' weights
	idx     []int32   // candidates' indices, ascending
	mask    []byte    // a threshold mask, a bit a token
	above   []byte    // bracket's second mask: the weights above it
	f64     []float64 // massThreshold's working copy
	samples []float32
	blocks  []float64 // the kept weights' sum per drawBlock tokens
}

var scratchPool = sync.Pool{New: func() any { return new(sampleScratch) }}

func (s *sampleScratch) reserve(n int) {
	if cap(s.w) < n {
		s.w, s.cw, s.idx = make([]float32, n), make([]float32, n), make([]int32, n)
		s.mask, s.above, s.f64 = make([]byte, (n+63)/64*8), make([]byte, (n+63)/64*8), make([]float64, n)
		s.blocks = make([]float64, (n+drawBlock-1)/drawBlock)
	}
}

// rowMax is the largest logit.
func rowMax(x []float32) float32 {
	n32 := len(x) &^ 31
	m := float32(math.Inf(-1))
	if haveAVX2 && n32 > 0 {
		m = maxAVX2(&x[0], n32)
	} else {
		m = maxGo(x[:n32])
	}
	if t := maxGo(x[n32:]); t > m {
		m = t
	}
	return m
}

// expRow fills s.w with every token's weight (0 below kth) and returns
// their sum.
func (s *sampleScratch) expRow(x []float32, maxv, inv, kth float32) float64 {
	n, n8, n16 := len(x), len(x)&^7, 0
	var lanes [8]float64
	if haveAVX2 && len(x) >= 16 {
		n16 = len(x) &^ 15
		expRowAVX2(&s.w[0], &x[0], n16, maxv, inv, kth, &lanes)
	}
	expRowGo(s.w[n16:n8], x[n16:n8], maxv, inv, kth, &lanes)
	total := ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]))
	for i := n8; i < n; i++ {
		s.w[i] = 0
		if x[i] >= kth {
			s.w[i] = weight(x[i], maxv, inv)
		}
		total += float64(s.w[i])
	}
	return total
}

// bracket returns, ascending, the indices of the weights in [lo, hi), and
// the sum of those ≥ hi, which it also leaves per drawBlock in s.blocks;
// s.above marks the weights ≥ hi.
func (s *sampleScratch) bracket(w []float32, lo, hi float32) (idx []int32, above float64) {
	n, n8 := len(w), len(w)&^7
	mask, am := s.mask[:(n+63)/64*8], s.above[:(n+63)/64*8]
	clear(mask[n8/8:])
	clear(am[n8/8:])
	blocks := s.blocks[:(n+drawBlock-1)/drawBlock]
	if haveAVX2 && n8 > 0 {
		bracketAVX2(&w[0], n8, lo, hi, &blocks[0], &mask[0], &am[0])
	} else {
		bracketGo(w[:n8], lo, hi, blocks, mask, am)
	}
	if n8 < n && n8%drawBlock == 0 {
		blocks[n8/drawBlock] = 0 // the tail starts a block of its own
	}
	for i := n8; i < n; i++ {
		switch v := w[i]; {
		case v >= hi:
			blocks[i/drawBlock] += float64(v)
			am[i>>3] |= 1 << (i & 7)
		case v >= lo:
			mask[i>>3] |= 1 << (i & 7)
		}
	}
	for _, b := range blocks {
		above += b
	}
	return s.setBits(mask), above
}

// thresholdIn is massThreshold over vals, weights all at least lo: a
// histogram of at most 256 buckets over their bit patterns (which order as
// the weights do, being positive), as fine for a narrow range as for one
// spanning decades, finds the bucket where the descending mass reaches
// rest, and only that bucket's weights are selected among. 0 when all fall
// short.
func (s *sampleScratch) thresholdIn(vals []float32, lo float32, rest float64) float32 {
	f := s.f64[:0]
	if len(vals) > 64 {
		top := lo
		for _, v := range vals {
			top = max(top, v)
		}
		base := math.Float32bits(lo)
		shift := uint(0)
		for (math.Float32bits(top)-base)>>shift >= 256 {
			shift++
		}
		var mass [256]float64
		for _, v := range vals {
			mass[uint8((math.Float32bits(v)-base)>>shift)] += float64(v)
		}
		acc, b := 0.0, 255
		for ; b > 0 && acc+mass[b] < rest; b-- {
			acc += mass[b]
		}
		for _, v := range vals {
			if int((math.Float32bits(v)-base)>>shift) == b {
				f = append(f, float64(v))
			}
		}
		rest -= acc
	} else {
		for _, v := range vals {
			f = append(f, float64(v))
		}
	}
	return float32(massThreshold(f, rest))
}

// sampleWeights leaves in s.samples, ascending, every 512th-or-so weight.
func (s *sampleScratch) sampleWeights(w []float32) {
	stride := max(1, len(w)/512)
	s.samples = s.samples[:0]
	for i := 0; i < len(w); i += stride {
		s.samples = append(s.samples, w[i])
	}
	slices.Sort(s.samples)
}

// estimateBelow brackets τ among the weights below top, where rest of the
// target remains to be found in a mass of below: it walks the samples
// under top from the largest, scaled to that mass, to where they reach
// rest, and returns the sampled weights sixteen either side (lo at least the
// smallest positive weight, hi at most top).
func (s *sampleScratch) estimateBelow(top float32, rest, below float64) (lo, hi float32) {
	n := sort.Search(len(s.samples), func(i int) bool { return s.samples[i] >= top })
	under := s.samples[:n]
	var sum float64
	for _, v := range under {
		sum += float64(v)
	}
	r, cum := len(under)-1, 0.0
	for ; r > 0; r-- {
		if cum += float64(under[r]) * below / max(sum, math.SmallestNonzeroFloat64); cum >= rest {
			break
		}
	}
	const margin = 16
	lo, hi = float32(math.SmallestNonzeroFloat32), top
	if r-margin >= 0 {
		lo = max(lo, under[r-margin])
	}
	if r+margin < len(under) {
		hi = under[r+margin]
	}
	return lo, hi
}

// drawBlocks draws among the weights ≥ tau (tau > 0) of w, whose sums per
// drawBlock are in s.blocks: the blocks' running sum finds the block
// holding u, and only that block is walked token by token.
func (s *sampleScratch) drawBlocks(w []float32, tau float32, p SampleParams) int32 {
	blocks := s.blocks[:(len(w)+drawBlock-1)/drawBlock]
	var total float64
	for _, b := range blocks {
		total += b
	}
	u := Uniform(p.Seed, p.Step) * total
	var cum float64
	last := int32(-1)
	for b, sum := range blocks {
		if cum+sum <= u {
			cum += sum
			continue
		}
		for i := b * drawBlock; i < min((b+1)*drawBlock, len(w)); i++ {
			if w[i] >= tau {
				cum += float64(w[i])
				last = int32(i)
				if u < cum {
					return int32(i)
				}
			}
		}
	}
	for i := len(w) - 1; i >= 0 && last < 0; i-- { // rounding left u unmet
		if w[i] >= tau {
			last = int32(i)
		}
	}
	return last
}

// maskIndices returns, ascending, the indices i with x[i] ≥ g.
func (s *sampleScratch) maskIndices(x []float32, g float32) []int32 {
	n, n8 := len(x), len(x)&^7
	mask := s.mask[:(n+63)/64*8]
	clear(mask[n8/8:])
	if haveAVX2 && n8 > 0 {
		geMaskAVX2(&x[0], n8, g, &mask[0])
	} else {
		geMaskGo(x[:n8], g, mask)
	}
	for i := n8; i < n; i++ {
		if x[i] >= g {
			mask[i>>3] |= 1 << (i & 7)
		}
	}
	return s.setBits(mask)
}

// setBits returns, ascending, the positions of mask's set bits (bit i%8 of
// byte i/8), in s.idx.
func (s *sampleScratch) setBits(mask []byte) []int32 {
	idx := s.idx[:0]
	for wi := 0; wi < len(mask); wi += 8 {
		word := binary.LittleEndian.Uint64(mask[wi:])
		for word != 0 {
			idx = append(idx, int32(wi*8+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return idx
}

// topK returns, ascending, the indices of the tokens whose logit is at
// least the k-th largest (0 < k < len(row)). The k-th is selected among the
// logits above a guess: the r-th largest of a strided sample of the row,
// with r set for about 4k candidates and raised while fewer than k pass.
func (s *sampleScratch) topK(row []float32, k int) []int32 {
	n := len(row)
	stride := max(1, n/1024)
	s.samples = s.samples[:0]
	for i := 0; i < n; i += stride {
		s.samples = append(s.samples, row[i])
	}
	ns := len(s.samples)
	for r := 4*k/stride + 1; ; r *= 4 {
		g := float32(math.Inf(-1))
		if r < ns {
			g = kthLargest(s.samples, r)
		}
		idx := s.maskIndices(row, g)
		if len(idx) < k && r < ns {
			continue
		}
		if len(idx) <= k {
			return idx // NaNs left no more than k candidates
		}
		vals := s.cw[:len(idx)]
		for j, i := range idx {
			vals[j] = row[i]
		}
		kth := kthLargest(vals, k)
		kept := idx[:0]
		for _, i := range idx {
			if row[i] >= kth {
				kept = append(kept, i)
			}
		}
		return kept
	}
}

// drawList draws among candidates idx (ascending) of weights w: with a
// top-p target (> 0), only those of weight at least τ, the smallest weight
// of the shortest descending prefix whose mass reaches target (all of them
// when their mass falls short by rounding); total is the candidates' mass.
func (s *sampleScratch) drawList(idx []int32, w []float32, total, target float64, p SampleParams) int32 {
	tau := float32(0)
	if target > 0 {
		f := s.f64[:len(w)]
		for j, v := range w {
			f[j] = float64(v)
		}
		tau = float32(massThreshold(f, target))
		total = 0
		for _, v := range w {
			if v >= tau {
				total += float64(v)
			}
		}
	}
	u := Uniform(p.Seed, p.Step) * total
	var cum float64
	last := int32(-1)
	for j, v := range w {
		if v > 0 && v >= tau {
			cum += float64(v)
			last = idx[j]
			if u < cum {
				return idx[j]
			}
		}
	}
	return last // −1 when nothing has a weight
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
// prefix of xs whose sum reaches target (xs is reordered), 0 when all of
// xs falls short.
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
