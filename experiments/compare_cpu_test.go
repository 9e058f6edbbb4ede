package experiments

import (
	"context"
	"strings"
	"testing"

	"benchtop/engine"
	"benchtop/report"
	"benchtop/session"
	"benchtop/workloads"
)

// compare's memory variants on the CPU keep the CPU's sizing: every row's
// pool is capped at what the batch can use, its JSON has the settings in
// force (not the variant's auto zeros), and the engine is restored as asked.
func TestCompareOnTheCPUKeepsTheCap(t *testing.T) {
	base := engine.AutoConfig()
	base.MaxNumSeqs = 4
	s, err := session.Open(session.Options{Model: "tiny", Device: "cpu", CPUMemoryBytes: 1 << 28, Engine: base})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := s.Status()
	w, _ := workloads.Lookup("throughput")
	vs := TutorialVariants(base, false)[:3] // default, 0.95, 0.7
	r, err := Compare(context.Background(), s, vs, w, Params{Requests: 4})
	if err != nil {
		t.Fatal(err)
	}
	doc := r.Doc.(report.Compare)
	for i, v := range doc.Results {
		if v.Memory == nil || v.Config == nil {
			t.Fatalf("%s: no memory or config", v.Name)
		}
		if v.Memory.NumBlocks != want.Plan.NumBlocks {
			t.Errorf("%s: %d KV blocks, want the cap %d", v.Name, v.Memory.NumBlocks, want.Plan.NumBlocks)
		}
		if v.Config.MaxNumBatchedTokens != want.Config.MaxNumBatchedTokens || v.Config.GPUMemoryUtilization != []float64{0.9, 0.95, 0.7}[i] {
			t.Errorf("%s: config written %+v", v.Name, *v.Config)
		}
	}
	if notes := strings.Join(r.Tables[0].Notes, "\n"); !strings.Contains(notes, "KV blocks of default, gpu_memory_utilization=0.95, gpu_memory_utilization=0.7: capped") {
		t.Errorf("no note on the capped pools: %s", notes)
	}
	if st := s.Status(); st.Requested != base || st.Plan.Reason != want.Plan.Reason {
		t.Fatalf("restored as %+v, reason %q; want %+v, %q", st.Requested, st.Plan.Reason, base, want.Plan.Reason)
	}
}
