package session

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/snapshot"
	"benchtop/workloads"
)

func openTiny(t *testing.T) *Session {
	t.Helper()
	return openReplicasTiny(t, 0, LeastOutstanding) // one engine, no pool
}

// Every arrival process runs Once on the real engine: every request
// finishes once, with its length.
func TestRunEveryArrival(t *testing.T) {
	s := openTiny(t)
	base, _ := workloads.Lookup("bench")
	base = base.WithCount(6)
	for _, arr := range []string{"all", "closed:2", "constant:400", "poisson:400", "gamma:400:2", "ramp:200:400:0.01"} {
		a, err := workloads.ParseArrival(arr)
		if err != nil {
			t.Fatal(err)
		}
		run, err := s.Run(context.Background(), base.WithArrival(a), 1)
		if err != nil {
			t.Fatalf("%s: %v", arr, err)
		}
		seen := map[string]bool{}
		for _, r := range run.Results {
			if seen[r.ID] || len(r.Output) != 50 || r.Finish != engine.FinishLength {
				t.Fatalf("%s: result %+v (seen before: %v)", arr, r, seen[r.ID])
			}
			seen[r.ID] = true
		}
		if run.Summary.Requests != 6 || run.Summary.OutputTokens != 300 {
			t.Fatalf("%s: summary %+v", arr, run.Summary)
		}
		if open := a.Kind != "all" && a.Kind != "closed"; open != (run.Lag.Count == 6) {
			t.Fatalf("%s: %d lags", arr, run.Lag.Count)
		}
	}
}

// A published frame is never written again: its encoding taken when it
// was published is its encoding after the session has moved on.
func TestFrameIsImmutable(t *testing.T) {
	s := openTiny(t)
	w, _ := workloads.Lookup("bench")
	if err := s.Start(w.WithCount(4)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "finished requests", func() bool { f := s.Frame(); return f.Metrics != nil && f.Metrics.Finished > 0 })
	f1 := s.Frame()
	before, _ := json.Marshal(f1)
	if err := s.SetMaxNumSeqs(5); err != nil {
		t.Fatal(err)
	}
	if err := s.SwitchWorkload("ttft"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the switch", func() bool {
		f := s.Frame()
		return f.Workload == "ttft" && f.Metrics.Finished > f1.Metrics.Finished && f.Status.Config.MaxNumSeqs == 5
	})
	after, _ := json.Marshal(f1)
	if string(before) != string(after) {
		t.Fatal("a published frame changed")
	}
	if f := s.Frame(); !f.Caps.MaxNumSeqs || f.Workloads[0] != "throughput" {
		t.Fatalf("caps %+v, workloads %v", f.Caps, f.Workloads)
	}
	dir := t.TempDir()
	files, err := s.Snapshot(dir)
	if err != nil || len(files) != 3 {
		t.Fatalf("%v %v", files, err)
	}
	back, err := snapshot.Read(files[0])
	if err != nil {
		t.Fatal(err)
	}
	fr := FrameOf(back, files[0])
	if !fr.ReadOnly || fr.Status.Config.MaxNumSeqs != 5 || len(back.Changes) != 2 || len(back.Requests) == 0 {
		t.Fatalf("reopened: %+v, %d changes", fr.Status, len(back.Changes))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.Base(files[1]))); err != nil {
		t.Fatal(err)
	}
}

func TestWarmAndDescribe(t *testing.T) {
	s := openTiny(t)
	w, _ := workloads.Lookup("bench")
	if err := s.Warm(context.Background(), w.WithCount(3), 0); err != nil {
		t.Fatal(err)
	}
	if d := s.Describe(); d != "tiny, synthetic weights on cpu, max_num_seqs=256" {
		t.Fatalf("describe %q", d)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
