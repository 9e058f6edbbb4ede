package gpumon

import (
	"context"
	"testing"
	"time"
)

// Without a GPU (CI), Run publishes why and samples the process; with one,
// GPU samples come too.
func TestSamplerPublishes(t *testing.T) {
	s := New()
	s.Interval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	// Stop once two samples are in (or Run has returned without NVML or a
	// process source), however long a loaded machine takes to take them;
	// the deadline only bounds a hang.
	deadline := time.Now().Add(30 * time.Second)
	for len(s.Latest().History) < 2 && time.Now().Before(deadline) {
		select {
		case <-done:
			deadline = time.Time{} // Run gave up: its reason is checked below
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	st := s.Latest()
	if st.Available {
		g := st.Latest().GPUs[0]
		t.Logf("GPU %q: %.0f%% util, %d/%d bytes, %.0f W, %.0f C, %.0f MHz", g.Name, g.UtilPct, g.MemUsedBytes, g.MemTotalBytes, g.PowerW, g.TempC, g.SMClockMHz)
		if len(st.History) < 2 || g.MemTotalBytes <= 0 {
			t.Fatalf("samples: %d, memory total %d", len(st.History), g.MemTotalBytes)
		}
		w, how, ok := st.Power(st.History[0].Time, st.Latest().Time)
		t.Logf("energy counter %.1f J; power over the run %.1f W (%s)", g.EnergyJ, w, how)
		if !ok || w <= 0 {
			t.Fatalf("no power over the run: %.1f W (%s) ok=%v", w, how, ok)
		}
		if !st.HasProcess() {
			t.Fatal("no process samples beside NVML")
		}
		return
	}
	if st.Reason == "" || st.Reason == "starting" {
		t.Fatalf("no NVML and no reason: %+v", st)
	}
	t.Logf("no NVML: %s", st.Reason)
	if !st.HasProcess() || len(st.History) < 2 {
		t.Fatalf("no process samples without NVML: %d samples", len(st.History))
	}
	p := st.Latest().Process
	if p.RSSBytes <= 0 || p.Cores < 1 || p.CPUPct < 0 || st.History[0].Process.CPUPct != -1 {
		t.Fatalf("process sample %+v (the first has no CPU use yet: %+v)", p, st.History[0].Process)
	}
}

// noGPU is a Source without NVML.
type noGPU struct{}

func (noGPU) Open() (string, int, error) { return "", 0, errTestNoNVML }
func (noGPU) Read(int) GPU               { return GPU{} }
func (noGPU) Close()                     {}

type testError string

func (e testError) Error() string { return string(e) }

const errTestNoNVML = testError("no NVML: test")

// Without NVML and without a process source, Run returns at once with the
// reason.
func TestSamplerWithoutAnything(t *testing.T) {
	s := NewWith(noGPU{})
	done := make(chan struct{})
	go func() { s.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if st := s.Latest(); st.Available || st.Reason != "no NVML: test" || st.HasProcess() {
		t.Fatalf("%+v", st)
	}
}
