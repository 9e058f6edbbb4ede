package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

// TestSampleKernels checks the sampling kernel against kernels.SampleRow on
// a vocabulary that is no multiple of the block, with top-k and top-p at
// their edges, and (on a GPU) against the kernel it replaced. It runs on the
// emulator too (go test -tags cudaemu).
func TestSampleKernels(t *testing.T) {
	g, err := openAttnBackend()
	if err != nil {
		t.Skipf("no GPU: %v", err)
	}
	defer g.Close()
	vocabs := []int{50272, 151936, 3001}
	rows := 48
	if emulated {
		vocabs, rows = []int{3001}, 32
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, vocab := range vocabs {
		vals := make([]float32, rows*vocab)
		for i := range vals {
			vals[i] = float32(rng.NormFloat64() * 3)
		}
		// Ties at the top of some rows: the lowest index must win.
		for j := 0; j < 5; j++ {
			vals[vocab+vocab/2+j*7] = 40
		}
		var params []kernels.SampleParams
		for i := range rows {
			p := kernels.SampleParams{Temperature: []float32{0.5, 0.8, 1, 1.7}[i%4], TopP: 1, Seed: uint64(31 + i), Step: uint64(i * 3)}
			switch i % 8 {
			case 0:
				p.Temperature = 0
			case 1:
				p.TopP = 0.95
			case 2:
				p.TopK = 50
			case 3:
				p.TopK, p.TopP = 200, 0.5
			case 4:
				p.TopP = 0.01 // the top token alone
			case 5:
				p.TopK = 1
			case 6:
				p.TopK, p.TopP = vocab-1, 0.999999
			}
			params = append(params, p)
		}
		run := func(kernel string) []int32 {
			t.Helper()
			logits, err := g.Alloc(kernels.F32, rows, vocab)
			must(t, err)
			defer g.Free(logits)
			must(t, g.Upload(logits, vals))
			if kernel != "" {
				t.Setenv(sampleEnv, kernel)
			}
			got, err := g.Sample(logits, params)
			must(t, err)
			return got
		}
		got := run("")
		same := checkSampled(t, fmt.Sprintf("vocab %d", vocab), got, vals, vocab, params)
		if emulated {
			continue
		}
		legacy := run("legacy")
		agree := 0
		for i := range got {
			if got[i] == legacy[i] {
				agree++
			}
		}
		if agree < rows-1 {
			t.Fatalf("vocab %d: %d of %d tokens equal the legacy kernel's", vocab, agree, rows)
		}
		t.Logf("vocab %d: %d of %d rows equal the CPU reference, %d the legacy kernel", vocab, same, rows, agree)
	}
}

// checkSampled compares a sampling kernel's tokens with kernels.SampleRow
// on the same logits ([rows×vocab], row-major) and returns how many rows
// agree. Every token must lie in the vocabulary, greedy and top-1 rows must
// agree, and all rows but two: the GPU weighs in fp32 and the reference in
// fp64, so a draw within rounding of a boundary may differ, nothing more.
func checkSampled(t *testing.T, what string, got []int32, logits []float32, vocab int, params []kernels.SampleParams) int {
	t.Helper()
	same := 0
	for i, tok := range got {
		want := kernels.SampleRow(logits[i*vocab:(i+1)*vocab], params[i])
		if tok < 0 || int(tok) >= vocab {
			t.Fatalf("%s row %d: token %d", what, i, tok)
		}
		if params[i].Temperature == 0 || params[i].TopK == 1 {
			if tok != want {
				t.Fatalf("%s row %d (%+v): token %d, want %d (deterministic)", what, i, params[i], tok, want)
			}
		}
		if tok == want {
			same++
		} else {
			t.Logf("%s row %d (%+v): gpu %d, cpu %d", what, i, params[i], tok, want)
		}
	}
	if same < len(got)-2 {
		t.Fatalf("%s: only %d of %d tokens equal the reference's", what, same, len(got))
	}
	return same
}
