package workloads

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Same seed → same requests: the first requests of every workload, golden.
func TestFirstRequestsGolden(t *testing.T) {
	var b strings.Builder
	for _, w := range Builtin() {
		specs := w.Specs(42)
		fmt.Fprintf(&b, "%s (%d):\n", w.Name, len(specs))
		for _, s := range specs[:min(3, len(specs))] {
			fmt.Fprintf(&b, "  %s prompt=%q len=%d prefix=%d max=%d temp=%g arrival=%s\n",
				s.ID, s.Prompt, s.PromptLen, s.PrefixLen, s.MaxTokens, s.Temperature, s.Arrival.Round(time.Microsecond))
		}
		if fmt.Sprint(specs) != fmt.Sprint(w.Specs(42)) {
			t.Errorf("%s: the same seed gave different requests", w.Name)
		}
	}
	path := "testdata/first_requests.golden"
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(path, []byte(b.String()), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./workloads -update)", err)
	}
	if string(want) != b.String() {
		t.Errorf("first requests changed:\n%s", b.String())
	}
}

func gaps(offs []time.Duration) (mean, cv float64) {
	var sum, sq float64
	for i := 1; i < len(offs); i++ {
		g := (offs[i] - offs[i-1]).Seconds()
		sum += g
		sq += g * g
	}
	n := float64(len(offs) - 1)
	mean = sum / n
	return mean, math.Sqrt(sq/n-mean*mean) / mean
}

func TestArrivalStatistics(t *testing.T) {
	const n = 40000
	cases := []struct {
		a        Arrival
		mean, cv float64
	}{
		{Arrival{Kind: "constant", Rate: 4}, 0.25, 0},
		{Arrival{Kind: "poisson", Rate: 10}, 0.1, 1},
		{Arrival{Kind: "gamma", Rate: 10, CV: 3}, 0.1, 3},
		{Arrival{Kind: "gamma", Rate: 5, CV: 0.5}, 0.2, 0.5},
	}
	for _, c := range cases {
		mean, cv := gaps(c.a.Offsets(n, 7))
		if math.Abs(mean-c.mean)/c.mean > 0.05 || math.Abs(cv-c.cv) > 0.1*math.Max(c.cv, 0.1) {
			t.Errorf("%s: mean gap %.4f (want %.4f), CV %.3f (want %.3f)", c.a, mean, c.mean, cv, c.cv)
		}
	}
	// A ramp from 2 to 20 req/s over 100 s: early gaps long, late ones short.
	r := Arrival{Kind: "ramp", Rate: 2, Rate2: 20, Period: 100 * time.Second}.Offsets(n, 3)
	var early, late int
	for _, o := range r {
		switch {
		case o < 10*time.Second:
			early++
		case o >= 100*time.Second && o < 110*time.Second:
			late++
		}
	}
	if early < 15 || early > 45 || late < 160 || late > 240 {
		t.Errorf("ramp: %d arrivals in the first 10 s (want ~29), %d in 10 s at the end rate (want ~200)", early, late)
	}
	if (Arrival{Kind: "all"}).Offsets(5, 1) != nil || (Arrival{Kind: "closed", N: 2}).Offsets(5, 1) != nil {
		t.Error("all and closed have no offsets")
	}
}

func TestLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	mean := func(l Length) float64 {
		var s float64
		for range 50000 {
			s += float64(l.Draw(r))
		}
		return s / 50000
	}
	if m := mean(Length{Kind: "lognormal", A: 300, B: 0.8}); math.Abs(m-300)/300 > 0.05 {
		t.Errorf("lognormal mean %.1f, want 300", m)
	}
	if m := mean(Length{Kind: "normal", A: 100, B: 10}); math.Abs(m-100) > 1 {
		t.Errorf("normal mean %.1f", m)
	}
	if m := mean(Length{Kind: "uniform", A: 10, B: 20}); math.Abs(m-15) > 0.2 {
		t.Errorf("uniform mean %.2f", m)
	}
	for range 1000 {
		if v := ShareGPTPrompt.Draw(r); v < 1 || v > 1024 {
			t.Fatalf("sharegpt prompt %d outside [1, 1024]", v)
		}
	}
	for _, bad := range []string{"", "fixed", "fixed:0", "uniform:5:2", "normal:1", "weird:1", "fixed:-3", "lognormal:NaN:1"} {
		if _, err := ParseLength(bad, false); err == nil {
			t.Errorf("ParseLength(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "poisson", "poisson:0", "gamma:1", "closed:2.5", "ramp:1:2", "often"} {
		if _, err := ParseArrival(bad); err == nil {
			t.Errorf("ParseArrival(%q) accepted", bad)
		}
	}
	if a, err := ParseArrival("ramp:1:10:30"); err != nil || a.Period != 30*time.Second {
		t.Errorf("ramp: %+v %v", a, err)
	}
}

func TestModifiers(t *testing.T) {
	w, _ := Lookup("bench")
	p, o := Length{Kind: "fixed", A: 7}, Length{Kind: "fixed", A: 9}
	specs := w.WithLengths(&p, &o).WithArrival(Arrival{Kind: "constant", Rate: 2}).WithCount(3).Specs(1)
	if len(specs) != 3 || specs[1].Prompt != "" || specs[1].PromptLen != 7 || specs[1].MaxTokens != 9 || specs[2].Arrival != time.Second {
		t.Fatalf("%+v", specs)
	}
	cl := w.WithArrival(Arrival{Kind: "closed", N: 4})
	if cl.Concurrency != 4 {
		t.Fatal("closed loop concurrency")
	}
}
