package experiments

import (
	"strings"
	"testing"
	"time"

	"benchtop/gpumon"
	"benchtop/snapshot"
)

func TestGPUUtilizationOverARun(t *testing.T) {
	s := &Session{GPU: gpumon.New()}
	t0 := time.Now()
	run := &RunResult{Start: t0, Wall: time.Second}
	var hist []snapshot.GPUSample
	for i, u := range []float64{99, 60, 80, 100, 40, 7} { // 250 ms apart from 250 ms before the run
		hist = append(hist, snapshot.GPUSample{Time: t0.Add(time.Duration(i-1) * 250 * time.Millisecond),
			GPUs: []snapshot.GPU{{UtilPct: u}, {UtilPct: -1}}})
	}
	s.GPU.Publish(&snapshot.GPUState{Available: true, History: hist})
	// In the run: 60, 80, 100, 40 (t = 0 … 0.75 s) and 7 (t = 1 s, within one period after the end).
	if u, _, ok := s.gpuUtilization(run); !ok || u != (60+80+100+40+7)/5.0 {
		t.Fatalf("utilization %g ok=%v", u, ok)
	}
	short := &RunResult{Start: t0.Add(10 * time.Second), Wall: 50 * time.Millisecond}
	if _, why, ok := s.gpuUtilization(short); ok || !strings.Contains(why, "shorter than") {
		t.Fatalf("short run: %q", why)
	}
	s.GPU.Publish(&snapshot.GPUState{Reason: "no NVML: Driver Not Loaded"})
	if _, why, ok := s.gpuUtilization(run); ok || !strings.Contains(why, "Driver Not Loaded") {
		t.Fatalf("no NVML: %q", why)
	}
}
