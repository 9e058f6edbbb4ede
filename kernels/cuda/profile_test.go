package cuda

import (
	"strings"
	"testing"

	"benchtop/kernels"
)

func TestParseCUWindows(t *testing.T) {
	ws, err := parseCUWindows("decode,1,20,3; decode,100,10,2")
	if err != nil || len(ws) != 2 || ws[0].seqs != 1 || ws[0].skip != 20 || ws[0].count != 3 || ws[1].seqs != 100 {
		t.Fatalf("got %+v, %v", ws, err)
	}
	for _, bad := range []string{"", "decode,1,2", "mixed,1,2,3", "decode,x,2,3", "decode,1,-2,3"} {
		if _, err := parseCUWindows(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestKernelProfile runs two timed steps through the profiler (on a GPU or
// the emulator) and checks the table names their operations.
func TestKernelProfile(t *testing.T) {
	g, err := openAttnBackend()
	if err != nil {
		t.Skipf("no GPU: %v", err)
	}
	defer g.Close()
	t.Setenv(profileEnv, "1")
	g.prof = newProfiler(g.d, g.stream)
	logits, err := g.Alloc(kernels.F32, 2, 300)
	must(t, err)
	b := &kernels.Batch{BlockSize: 16, Tokens: []int32{1, 2}, Positions: []int32{3, 4}, Slots: []int32{3, 20},
		Seqs: []kernels.SeqSlice{{QueryStart: 0, QueryLen: 1, ContextLen: 4, BlockTable: []int32{0}, NeedLogits: true},
			{QueryStart: 1, QueryLen: 1, ContextLen: 5, BlockTable: []int32{1}, NeedLogits: true}}}
	for range 2 {
		must(t, g.MarkStart())
		must(t, g.SetBatch(b))
		if _, err := g.Sample(logits, make([]kernels.SampleParams, 2)); err != nil {
			t.Fatal(err)
		}
		if _, err := g.MarkEnd(); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	g.prof.write(&out)
	for _, want := range []string{"decode: 2 sequences, 2 tokens — 2 steps", "| sample | 1.0 |", "| upload step metadata | 1.0 |", "| download tokens |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("profile lacks %q:\n%s", want, out.String())
		}
	}
	g.prof.free()
	g.prof = nil
}
