package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/workloads"
)

// A run stopped midway returns what finished, marked partial, with an
// error that says it stopped and why; a run with failed and truncated
// requests goes on and counts them by reason.
func TestRunStoppedAndFailures(t *testing.T) {
	s := openTiny(t)
	w, _ := workloads.Lookup("clients")
	fixed := func(n int) *workloads.Length { return &workloads.Length{Kind: "fixed", A: float64(n)} }
	w = w.WithCount(100000).WithLengths(fixed(8), fixed(8))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if m := s.stats.Latest(); m != nil && m.Finished >= 5 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	run, err := s.Run(ctx, w, 1)
	if !errors.Is(err, ErrStopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v; want one wrapping ErrStopped and context.Canceled", err)
	}
	if run == nil || !run.Partial || run.Summary.Requests < 5 || run.Summary.Requests >= run.Requests || run.Wall <= 0 {
		t.Fatalf("partial result %+v", run)
	}

	// Too long prompts are rejected, too long outputs cut: counted, no error.
	b, _ := workloads.Lookup("bench")
	b = b.WithCount(10).WithLengths(&workloads.Length{Kind: "uniform", A: 4, B: 40}, fixed(30))
	if err := s.Reconfigure(context.Background(), withMaxModelLen(s, 32), "max_model_len=32"); err != nil {
		t.Fatal(err)
	}
	run, err = s.Run(context.Background(), b, 2)
	if err != nil || run.Partial {
		t.Fatalf("%v (partial %v)", err, run != nil && run.Partial)
	}
	if run.Failed == 0 || run.Truncated == 0 || run.Failed+run.Truncated > 10 || len(run.Failures) != 2 ||
		run.Failures[0].Finish != "rejected" || run.Failures[1].Finish != "max_model_len" || run.Failures[1].Example == "" {
		t.Fatalf("failed %d, truncated %d, failures %+v", run.Failed, run.Truncated, run.Failures)
	}
	s.publish()
	f := s.Frame()
	if failed, truncated, _ := f.Outcomes(); failed < run.Failed || truncated < run.Truncated {
		t.Fatalf("the frame's outcomes: %d failed, %d truncated", failed, truncated)
	}
}

func withMaxModelLen(s *Session, n int) engine.Config {
	c := s.Status().Config
	c.MaxModelLen = n
	return c
}
