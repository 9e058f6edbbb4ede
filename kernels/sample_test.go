package kernels

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestHalfConversions(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {6.1035156e-05, 0x0400}, {5.9604645e-08, 0x0001}, {float32(math.Inf(1)), 0x7c00}, {1e6, 0x7c00}}
	for _, c := range cases {
		if got := F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
		if c.f <= 65504 {
			if back := F16ToF32(c.h); back != c.f {
				t.Errorf("F16ToF32(%#04x) = %g, want %g", c.h, back, c.f)
			}
		}
	}
	// Every half value survives a round trip; rounding picks the nearest.
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN
		}
		if got := F32ToF16(F16ToF32(uint16(h))); got != uint16(h) {
			t.Fatalf("round trip of %#04x gave %#04x", h, got)
		}
	}
	if F32ToF16(1+1.0/2048) != 0x3c00 || F32ToF16(1+3.0/2048) != 0x3c02 {
		t.Fatal("ties do not round to even")
	}
	if BF16ToF32(F32ToBF16(3.140625)) != 3.140625 || F32ToBF16(1) != 0x3f80 {
		t.Fatal("bf16 conversion")
	}
}

// sortedReference is SampleRow's definition done the slow way: the
// thresholds from a full sort, the sums in index order, the same weights.
func sortedReference(row []float32, p SampleParams) int32 {
	return sortedReferenceIn(row, descending(row), p)
}

// descending is the row's indices from the largest logit down.
func descending(row []float32) []int {
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	return idx
}

// sortedReferenceIn is sortedReference with the row's descending order given.
func sortedReferenceIn(row []float32, idx []int, p SampleParams) int32 {
	n := len(row)
	kth := float32(math.Inf(-1))
	if p.TopK > 0 && p.TopK < n {
		kth = row[idx[p.TopK-1]]
	}
	mx := row[idx[0]]
	w := make([]float32, n)
	var total float64
	for i, x := range row {
		if x >= kth {
			w[i] = weight(x, mx, 1/p.Temperature)
			total += float64(w[i])
		}
	}
	tau := float32(0)
	if p.TopP > 0 && p.TopP < 1 {
		var cum float64
		for _, i := range idx {
			if w[i] == 0 {
				continue
			}
			cum += float64(w[i])
			if cum >= float64(p.TopP)*total {
				tau = w[i]
				break
			}
		}
	}
	total = 0
	for _, v := range w {
		if v > 0 && v >= tau {
			total += float64(v)
		}
	}
	u := Uniform(p.Seed, p.Step) * total
	var cum float64
	last := int32(-1)
	for i, v := range w {
		if v > 0 && v >= tau {
			cum += float64(v)
			last = int32(i)
			if u < cum {
				return int32(i)
			}
		}
	}
	return last
}

func TestSampleRowMatchesSortedDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 400; trial++ {
		n := 1 + r.IntN(300)
		row := make([]float32, n)
		for i := range row {
			row[i] = float32(r.NormFloat64() * 3)
			if r.IntN(5) == 0 && i > 0 {
				row[i] = row[i-1] // ties
			}
		}
		p := SampleParams{Temperature: 0.2 + r.Float32()*1.5, TopK: r.IntN(n + 2), TopP: []float32{0, 0.1, 0.5, 0.9, 1}[r.IntN(5)],
			Seed: r.Uint64(), Step: uint64(r.IntN(100))}
		if got, want := SampleRow(row, p), sortedReference(row, p); got != want {
			t.Fatalf("trial %d (n=%d, %+v): got %d, want %d", trial, n, p, got, want)
		}
	}
}

func TestSampleRowBehaviour(t *testing.T) {
	row := []float32{0.1, 3, -1, 2.9, 0}
	if SampleRow(row, SampleParams{}) != 1 {
		t.Fatal("greedy is not argmax")
	}
	if Argmax([]float32{1, 5, 5}) != 1 {
		t.Fatal("argmax ties do not go to the lowest index")
	}
	for s := uint64(0); s < 50; s++ {
		if got := SampleRow(row, SampleParams{Temperature: 1, TopK: 1, Seed: s}); got != 1 {
			t.Fatalf("top-k 1 sampled %d", got)
		}
		if got := SampleRow(row, SampleParams{Temperature: 1, TopK: 2, Seed: s}); got != 1 && got != 3 {
			t.Fatalf("top-k 2 sampled %d", got)
		}
	}
	// Frequencies follow the softmax at temperature 1.
	counts := make([]int, len(row))
	const draws = 20000
	for s := uint64(0); s < draws; s++ {
		counts[SampleRow(row, SampleParams{Temperature: 1, Seed: 42, Step: s})]++
	}
	var z float64
	for _, x := range row {
		z += math.Exp(float64(x))
	}
	for i, x := range row {
		want := math.Exp(float64(x)) / z
		if got := float64(counts[i]) / draws; math.Abs(got-want) > 0.015 {
			t.Fatalf("token %d drawn %.3f of the time, softmax says %.3f", i, got, want)
		}
	}
	a := SampleRow(row, SampleParams{Temperature: 1, Seed: 7, Step: 3})
	for range 5 {
		if SampleRow(row, SampleParams{Temperature: 1, Seed: 7, Step: 3}) != a {
			t.Fatal("seeded draw is not reproducible")
		}
	}
}

// A scratch left longer and dirty by an earlier, longer row: the shorter
// row's draw reads only its own part (the top-p bracket once took the
// marks of the whole scratch, and drew indices past the row).
func TestSampleRowAfterALongerRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	row := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 3)
		}
		return x
	}
	s := &sampleScratch{}
	for _, n := range []int{151936, 3001, 50272, 1001, 7} {
		for i := range 48 {
			x := row(n)
			p := SampleParams{Temperature: []float32{0.5, 0.8, 1, 1.7}[i%4], TopP: []float32{0.95, 0.5, 0.99, 1}[i%4], Seed: uint64(31 + i)}
			got := s.sample(x, p)
			fresh := (&sampleScratch{}).sample(x, p)
			if got != fresh {
				t.Fatalf("vocab %d row %d (%+v): %d after a longer row, %d with a fresh scratch", n, i, p, got, fresh)
			}
		}
	}
}
