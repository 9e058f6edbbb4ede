package gpumon

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMeanUtilization(t *testing.T) {
	t0 := time.Now()
	var hist []Sample
	for i, u := range []float64{99, 60, 80, 100, 40, 7} { // 250 ms apart from 250 ms before the run
		hist = append(hist, Sample{Time: t0.Add(time.Duration(i-1) * 250 * time.Millisecond), GPUs: []GPU{{UtilPct: u}, {UtilPct: -1}}})
	}
	st := &State{Available: true, Interval: 250 * time.Millisecond, History: hist}
	// In the run: 60, 80, 100, 40 (t = 0 … 0.75 s) and 7 (t = 1 s, within one period after the end).
	if u, _, ok := st.MeanUtilization(t0, t0.Add(time.Second)); !ok || u != (60+80+100+40+7)/5.0 {
		t.Fatalf("utilization %g ok=%v", u, ok)
	}
	if _, why, ok := st.MeanUtilization(t0.Add(10*time.Second), t0.Add(10*time.Second+50*time.Millisecond)); ok || !strings.Contains(why, "shorter than") {
		t.Fatalf("short run: %q", why)
	}
	none := &State{Reason: "no NVML: Driver Not Loaded"}
	if _, why, ok := none.MeanUtilization(t0, t0.Add(time.Second)); ok || !strings.Contains(why, "Driver Not Loaded") {
		t.Fatalf("no NVML: %q", why)
	}
}

// fakeGPUs is a Source of two GPUs whose utilization counts up.
type fakeGPUs struct{ n int }

func (f *fakeGPUs) Open() (string, int, error) { return "test-driver", 2, nil }
func (f *fakeGPUs) Read(i int) GPU             { f.n++; return GPU{Index: i, UtilPct: float64(f.n)} }
func (f *fakeGPUs) Close()                     {}

// The sampler publishes immutable states: one taken early keeps its
// samples while later ones grow, and the history is bounded.
func TestSamplerHistoryIsBoundedAndImmutable(t *testing.T) {
	s := NewWith(&fakeGPUs{})
	s.Interval, s.MaxSamples = time.Millisecond, 5
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for s.Latest().Latest() == nil {
		time.Sleep(time.Millisecond)
	}
	first := s.Latest()
	u0 := first.History[0].GPUs[1].UtilPct
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	last := s.Latest()
	if first.History[0].GPUs[1].UtilPct != u0 || len(last.History) > 2*5 || last.Driver != "test-driver" || len(last.Latest().GPUs) != 2 {
		t.Fatalf("first %v, last %d samples", first.History[0], len(last.History))
	}
}

// Power comes from the energy counter where every GPU has it, else from
// the power samples; J per token is power over tokens/s.
func TestPower(t *testing.T) {
	t0 := time.Now()
	var hist []Sample
	for i := 0; i < 5; i++ { // 250 ms apart; GPU0 uses 200 J/s by its counter, GPU1 100 J/s
		at := t0.Add(time.Duration(i) * 250 * time.Millisecond)
		hist = append(hist, Sample{Time: at, GPUs: []GPU{{EnergyJ: 1000 + 50*float64(i), PowerW: 190}, {EnergyJ: 500 + 25*float64(i), PowerW: 90}}})
	}
	st := &State{Available: true, Interval: 250 * time.Millisecond, History: hist}
	if w, how, ok := st.Power(t0, t0.Add(time.Second)); !ok || w != 300 || !strings.Contains(how, "energy") {
		t.Fatalf("counter: %g W (%s) ok=%v", w, how, ok)
	}
	hist[2].GPUs[1].EnergyJ = -1 // not at the ends: still the counter
	hist[4].GPUs[1].EnergyJ = -1 // at an end: the samples instead
	if w, how, ok := st.Power(t0, t0.Add(time.Second)); !ok || w != 280 || !strings.Contains(how, "power samples") {
		t.Fatalf("samples: %g W (%s) ok=%v", w, how, ok)
	}
	if _, _, ok := st.Power(t0.Add(time.Hour), t0.Add(2*time.Hour)); ok {
		t.Fatal("power outside the samples")
	}
	if _, _, ok := (&State{Reason: "no NVML"}).Power(t0, t0); ok {
		t.Fatal("power without NVML")
	}
}
