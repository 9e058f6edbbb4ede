package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// exp32 is the exponential to float32 precision over its whole range.
func TestExp32Accuracy(t *testing.T) {
	worst := 0.0
	for d := float32(ExpMinArg); d <= 0; d += 0.000731 {
		got, want := float64(exp32(d)), math.Exp(float64(d))
		if e := math.Abs(got-want) / want; e > worst {
			worst = e
		}
	}
	if worst > 3e-7 {
		t.Fatalf("relative error up to %g", worst)
	}
	if exp32(0) != 1 || exp32(ExpMinArg-0.001) != 0 || exp32(float32(math.Inf(-1))) != 0 || exp32(float32(math.NaN())) != 0 {
		t.Fatal("edges")
	}
	t.Logf("exp32: relative error at most %.2g", worst)
}

// The AVX2 kernels give exactly the bits of their Go twins.
func TestVectorTwinsAgree(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2 here")
	}
	r := rand.New(rand.NewPCG(5, 5))
	specials := []float32{float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN()), -1e30, 0, -0.0, 1e-40, 87, -87}
	for trial := range 300 {
		n := 32 * (1 + r.IntN(60))
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * []float64{0.1, 3, 40}[trial%3])
			if r.IntN(50) == 0 {
				x[i] = specials[r.IntN(len(specials))]
			}
		}
		maxv := maxGo(x)
		if got := maxAVX2(&x[0], n); math.Float32bits(got) != math.Float32bits(maxv) {
			t.Fatalf("trial %d: max %g, twin %g", trial, got, maxv)
		}
		if math.IsInf(float64(maxv), 0) {
			maxv = 5
		}
		inv := 0.2 + r.Float32()*3
		kth := float32(math.Inf(-1))
		if trial%2 == 1 {
			kth = x[r.IntN(n)]
		}
		wv, wg := make([]float32, n), make([]float32, n)
		var lv, lg [8]float64
		expRowAVX2(&wv[0], &x[0], n, maxv, inv, kth, &lv)
		expRowGo(wg, x, maxv, inv, kth, &lg)
		for i := range wv {
			if math.Float32bits(wv[i]) != math.Float32bits(wg[i]) && !(wv[i] != wv[i] && wg[i] != wg[i]) {
				t.Fatalf("trial %d: weight %d of x=%g: %g (%#x), twin %g (%#x)", trial, i, x[i], wv[i], math.Float32bits(wv[i]), wg[i], math.Float32bits(wg[i]))
			}
		}
		for j := range lv {
			if math.Float64bits(lv[j]) != math.Float64bits(lg[j]) && !(math.IsNaN(lv[j]) && math.IsNaN(lg[j])) {
				t.Fatalf("trial %d: lane sums %v, twin %v", trial, lv, lg)
			}
		}
		mv, mg := make([]byte, n/8), make([]byte, n/8)
		geMaskAVX2(&x[0], n, kth, &mv[0])
		geMaskGo(x, kth, mg)
		if string(mv) != string(mg) {
			t.Fatalf("trial %d: masks differ", trial)
		}
		lo, hi := wg[r.IntN(n)], wg[r.IntN(n)]
		if trial%5 == 0 {
			hi = float32(math.Inf(1))
		}
		bv, bg := make([]float64, (n+drawBlock-1)/drawBlock), make([]float64, (n+drawBlock-1)/drawBlock)
		av, ag, amv, amg := make([]byte, n/8), make([]byte, n/8), make([]byte, n/8), make([]byte, n/8)
		bracketAVX2(&wg[0], n, lo, hi, &bv[0], &av[0], &amv[0])
		bracketGo(wg, lo, hi, bg, ag, amg)
		if string(av) != string(ag) || string(amv) != string(amg) {
			t.Fatalf("trial %d: bracket [%g, %g) masks differ", trial, lo, hi)
		}
		for b := range bv {
			if math.Float64bits(bv[b]) != math.Float64bits(bg[b]) && !(math.IsNaN(bv[b]) && math.IsNaN(bg[b])) {
				t.Fatalf("trial %d: block %d sums %g, twin %g", trial, b, bv[b], bg[b])
			}
		}
	}
}

// On the full vocabulary, with every kind of row and setting, the fast
// sampler draws what the sorted definition draws, on both code paths.
func TestSampleRowFullVocabulary(t *testing.T) {
	const vocab = 50272
	r := rand.New(rand.NewPCG(8, 8))
	rows := map[string][]float32{}
	for _, kind := range []string{"peaked", "flat", "ties", "spiky"} {
		row := make([]float32, vocab+r.IntN(7))
		for i := range row {
			switch kind {
			case "peaked":
				row[i] = float32(r.NormFloat64() * 3)
			case "flat":
				row[i] = float32(r.NormFloat64() * 0.05)
			case "ties":
				row[i] = float32(r.IntN(6))
			case "spiky":
				row[i] = float32(r.NormFloat64())
				if r.IntN(1000) == 0 {
					row[i] += 15
				}
			}
		}
		rows[kind] = row
	}
	paths := []bool{false}
	if haveAVX2 {
		paths = append(paths, true)
	}
	defer func(v bool) { haveAVX2 = v }(haveAVX2)
	for _, vec := range paths {
		haveAVX2 = vec
		for kind, row := range rows {
			order := descending(row)
			for trial := range 12 {
				p := SampleParams{Temperature: []float32{0.3, 0.8, 1, 1.7}[trial%4], TopK: []int{0, 1, 50, 2000, vocab - 1}[trial%5],
					TopP: []float32{0, 0.5, 0.9, 0.95, 1}[r.IntN(5)], Seed: r.Uint64(), Step: uint64(trial)}
				if got, want := SampleRow(row, p), sortedReferenceIn(row, order, p); got != want {
					t.Errorf("%s row, avx2 %v, %+v: got %d, want %d", kind, vec, p, got, want)
				}
			}
		}
	}
}

// A row of NaNs (a broken model) still gives a token inside the vocabulary.
func TestSampleRowNaNs(t *testing.T) {
	row := make([]float32, 100)
	for i := range row {
		row[i] = float32(math.NaN())
	}
	row[7] = 1
	for _, p := range []SampleParams{{Temperature: 1}, {Temperature: 1, TopK: 5}, {Temperature: 1, TopP: 0.5}, {Temperature: 1, TopK: 200, TopP: 0.9}} {
		for _, r := range [][]float32{row, row[8:]} {
			if tok := SampleRow(r, p); tok < 0 || int(tok) >= len(r) {
				t.Fatalf("%+v: token %d of %d", p, tok, len(r))
			}
		}
	}
}

// BenchmarkSampleRow is one row of the full OPT vocabulary (50,272) per
// operation: greedy argmax, temperature alone, top-k, top-p and both, on
// peaked logits (normal, σ 3) and on flat ones (σ 0.5, top-p then keeps most
// of the vocabulary). The budget: within 3× of argmax. cpu-ns/op is
// the thread's CPU time, steadier than wall time on a shared machine.
func BenchmarkSampleRow(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, sigma := range []float64{3, 0.5} {
		row := make([]float32, 50272)
		for i := range row {
			row[i] = float32(r.NormFloat64() * sigma)
		}
		for _, c := range []struct {
			name string
			p    SampleParams
		}{
			{"argmax", SampleParams{}},
			{"temperature", SampleParams{Temperature: 0.8}},
			{"top-k=50", SampleParams{Temperature: 0.8, TopK: 50}},
			{"top-p=0.95", SampleParams{Temperature: 0.8, TopP: 0.95}},
			{"top-k=200,top-p=0.9", SampleParams{Temperature: 0.8, TopK: 200, TopP: 0.9}},
		} {
			b.Run(fmt.Sprintf("sigma=%g/%s", sigma, c.name), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := threadCPU()
				for i := uint64(0); b.Loop(); i++ {
					c.p.Seed, c.p.Step = 7, i
					SampleRow(row, c.p)
				}
				if cpu := threadCPU() - cpu0; cpu > 0 {
					b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
