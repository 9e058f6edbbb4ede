package workloads

import (
	"fmt"
	"testing"
)

func TestTutorialWorkloads(t *testing.T) {
	want := map[string]struct {
		n, maxTokens int
		first        string
		greedy       bool
	}{
		"throughput":  {100, 50, "Test prompt", false},
		"latency":     {1, 100, "Hello world", false},
		"ttft":        {20, 16, "Hello world", false},
		"bench":       {100, 50, "Prompt 0: Tell me about AI", true},
		"utilization": {50, 100, "Test", false},
	}
	for name, w := range want {
		wl, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		specs := wl.Specs(1)
		if len(specs) != w.n || specs[0].MaxTokens != w.maxTokens || specs[0].Prompt != w.first || (specs[0].Temperature == 0) != w.greedy {
			t.Fatalf("%s: %d specs, first %+v", name, len(specs), specs[0])
		}
		if fmt.Sprint(specs) != fmt.Sprint(wl.Specs(1)) {
			t.Fatalf("%s is not deterministic", name)
		}
	}
	if got := must(Lookup("bench")).Specs(0)[42].Prompt; got != "Prompt 42: Tell me about AI" {
		t.Fatalf("bench prompt 42: %q", got)
	}
	if n := len(must(Lookup("bench")).WithCount(7).Specs(0)); n != 7 {
		t.Fatalf("WithCount(7) gave %d", n)
	}
	if _, err := Lookup("nope"); err == nil {
		t.Fatal("unknown workload found")
	}
	if len(Batch(20).Specs(0)) != 20 {
		t.Fatal("batch workload size")
	}
}

func must(w Workload, err error) Workload {
	if err != nil {
		panic(err)
	}
	return w
}
