package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"benchtop/engine"
	"benchtop/workloads"
)

func openReplicasTiny(t *testing.T, n int, policy Policy) *Session {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.MaxNumBatchedTokens = 512
	s, err := Open(Options{Model: "tiny", Device: "cpu", CPUMemoryBytes: 1 << 28, Engine: cfg, DataParallel: n, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// N replicas on the CPU: every request finishes exactly once, the tokens
// are a single engine's, each replica took its share, and the frame has a
// row per replica.
func TestReplicasMatchOneEngine(t *testing.T) {
	w, _ := workloads.Lookup("bench")
	w = w.WithCount(16)
	one := openReplicasTiny(t, 1, LeastOutstanding)
	want, err := one.Run(context.Background(), w, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n      int
		policy Policy
	}{{2, LeastOutstanding}, {8, RoundRobin}} { // (a CPU replica of tiny takes about 2 s to open under -race)
		t.Run(fmt.Sprintf("%d %s", c.n, c.policy), func(t *testing.T) {
			s := openReplicasTiny(t, c.n, c.policy)
			if s.Pool() == nil || s.Pool().Len() != c.n || len(s.Engines()) != c.n {
				t.Fatalf("pool %v, %d engines", s.Pool(), len(s.Engines()))
			}
			got, err := s.Run(context.Background(), w, 3)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for i, r := range got.Results {
				if seen[r.ID] {
					t.Fatalf("request %s finished twice", r.ID)
				}
				seen[r.ID] = true
				if !slices.Equal(r.Output, want.Results[i].Output) || r.Finish != want.Results[i].Finish {
					t.Fatalf("request %d: tokens %v, one engine gave %v", i, r.Output, want.Results[i].Output)
				}
			}
			if got.Summary.Requests != 16 || got.Summary.OutputTokens != want.Summary.OutputTokens {
				t.Fatalf("summary %+v", got.Summary)
			}
			rows, err := s.SourcesOver(context.Background(), got.Start, got.Wall)
			if err != nil || len(rows) != c.n {
				t.Fatalf("rows %+v %v", rows, err)
			}
			total := 0
			for _, r := range rows {
				total += r.Finished
				if r.Finished != 16/c.n || !r.Up || r.Kind != "replica" || r.OutputTok == 0 {
					t.Errorf("row %+v: want %d requests each", r, 16/c.n)
				}
			}
			if total != 16 {
				t.Fatalf("%d finished over the rows", total)
			}
			s.publish()
			f := s.Frame()
			if len(f.Sources) != c.n || f.Policy != c.policy.String() || f.Sources[0].Running == nil {
				t.Fatalf("frame sources %+v policy %q", f.Sources, f.Policy)
			}
			if !strings.Contains(s.Describe(), fmt.Sprintf("×%d data parallel", c.n)) {
				t.Fatalf("describe %q", s.Describe())
			}
		})
	}
}

// Settings go to every replica; the dashboard's loop runs over them.
func TestReplicasTakeSettingsAndKeepRunning(t *testing.T) {
	s := openReplicasTiny(t, 2, LeastOutstanding)
	if c := s.Frame().Caps; !c.MaxNumSeqs || !c.Reconfigure || !c.Pause {
		t.Fatalf("caps %+v", c)
	}
	if err := s.SetMaxNumSeqs(5); err != nil {
		t.Fatal(err)
	}
	for i, e := range s.Engines() {
		if n := e.Status().Config.MaxNumSeqs; n != 5 {
			t.Fatalf("replica %d: max_num_seqs %d", i, n)
		}
	}
	w, _ := workloads.Lookup("bench")
	if err := s.Start(w.WithCount(8)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both replicas to finish requests", func() bool {
		f := s.Frame()
		return len(f.Sources) == 2 && f.Sources[0].Finished > 2 && f.Sources[1].Finished > 2
	})
	s.StopLoad()
}

func TestPlanReplicas(t *testing.T) {
	defer func(f func() ([]engine.GPU, error)) { gpuLister = f }(gpuLister)
	two := []engine.GPU{{Ordinal: 0, Name: "NVIDIA H200"}, {Ordinal: 1, Name: "NVIDIA H200"}}
	gpuLister = func() ([]engine.GPU, error) { return two, nil }
	cases := []struct {
		o      Options
		device string
		ords   []int
		err    string
	}{
		{Options{Device: "auto"}, "auto", []int{0}, ""},
		{Options{Device: "auto", DataParallel: 2}, "cuda", []int{0, 1}, ""},
		{Options{Device: "cuda", Devices: []int{1}}, "cuda", []int{1}, ""},
		{Options{Device: "cuda", DataParallel: 4}, "", nil, "data-parallel-size 4: more replicas than GPUs; 2 found: 0 (NVIDIA H200), 1 (NVIDIA H200)"},
		{Options{Device: "cuda", Devices: []int{0, 2}}, "", nil, "no GPU 2; 2 found: 0 (NVIDIA H200), 1 (NVIDIA H200)"},
		{Options{Device: "cuda", Devices: []int{1, 1}}, "", nil, "listed twice"},
		{Options{Device: "cuda", Devices: []int{0, 1}, DataParallel: 3}, "", nil, "2 GPUs listed for data-parallel-size 3"},
		{Options{Device: "cpu", DataParallel: 8}, "cpu", []int{0, 1, 2, 3, 4, 5, 6, 7}, ""},
		{Options{Device: "cpu", Devices: []int{0}}, "", nil, "the CPU backend has no GPUs"},
		{Options{DataParallel: -1}, "", nil, "must be between 1 and"},
		{Options{DataParallel: MaxDataParallel + 1}, "", nil, "must be between 1 and"},
	}
	for _, c := range cases {
		dev, ords, err := planReplicas(c.o)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: err %v, want %q", c.o, err, c.err)
			}
			continue
		}
		if err != nil || dev != c.device || !slices.Equal(ords, c.ords) {
			t.Errorf("%+v: %s %v %v; want %s %v", c.o, dev, ords, err, c.device, c.ords)
		}
	}
	gpuLister = func() ([]engine.GPU, error) { return nil, errors.New("load the CUDA driver (libcuda.so.1): not found") }
	if dev, ords, err := planReplicas(Options{Device: "auto", DataParallel: 2}); err != nil || dev != "auto" || len(ords) != 2 {
		t.Errorf("auto without GPUs: %s %v %v (want CPU replicas)", dev, ords, err)
	}
	if _, _, err := planReplicas(Options{Device: "cuda", DataParallel: 2}); err == nil || !strings.Contains(err.Error(), "no GPU found (load the CUDA driver") {
		t.Errorf("cuda without GPUs: %v", err)
	}
}
