package gpumon

import (
	"context"
	"testing"
	"time"
)

// Without a GPU (CI), Run publishes why and returns; with one, samples come.
func TestSamplerPublishes(t *testing.T) {
	s := New()
	s.Interval = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
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
		return
	}
	if st.Reason == "" || st.Reason == "starting" {
		t.Fatalf("no NVML and no reason: %+v", st)
	}
	t.Logf("no NVML: %s", st.Reason)
}
