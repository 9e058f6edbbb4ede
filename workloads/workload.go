package workloads

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Spec is one request of a workload.
type Spec struct {
	ID          string
	Prompt      string
	MaxTokens   int
	Temperature float32
	TopP        float32
	TopK        int
	IgnoreEOS   bool
	Arrival     time.Duration // offset from the workload's start (0: at once)
}

// Workload is a named request generator.
type Workload struct {
	Name        string
	Description string
	// Concurrency 0 sends every request at its arrival offset; N > 0 keeps at
	// most N requests in flight (a closed loop of N clients).
	Concurrency int
	// Count is how many requests Specs returns (the tutorial's number unless
	// WithCount changed it).
	Count int
	gen   func(seed int64, n int) []Spec
}

// Specs generates the workload's requests for seed.
func (w Workload) Specs(seed int64) []Spec { return w.gen(seed, w.Count) }

// WithCount returns the workload with n requests (n ≤ 0: unchanged).
func (w Workload) WithCount(n int) Workload {
	if n > 0 {
		w.Count = n
	}
	return w
}

// The tutorial's sampling: temperature 0.8 and top-p 0.95 unless the
// experiment says greedy. Output lengths are held fixed (ignore EOS) so runs
// are comparable, as benchmark tools do.
const (
	tutorialTemperature = 0.8
	tutorialTopP        = 0.95
)

func repeat(prompt func(i int) string, maxTokens int, temp float32) func(int64, int) []Spec {
	return func(_ int64, n int) []Spec {
		out := make([]Spec, n)
		for i := range out {
			out[i] = Spec{ID: fmt.Sprintf("req-%d", i), Prompt: prompt(i), MaxTokens: maxTokens,
				Temperature: temp, TopP: tutorialTopP, IgnoreEOS: true}
			if temp == 0 {
				out[i].TopP = 1
			}
		}
		return out
	}
}

func fixed(s string) func(int) string { return func(int) string { return s } }

// Builtin lists the tutorial's workloads.
func Builtin() []Workload {
	return []Workload{
		{Name: "throughput", Description: `100 × "Test prompt", 50 tokens each, all at once (the tutorial's throughput test)`,
			Count: 100, gen: repeat(fixed("Test prompt"), 50, tutorialTemperature)},
		{Name: "latency", Description: `1 × "Hello world", 100 tokens (the tutorial's latency test)`,
			Count: 1, gen: repeat(fixed("Hello world"), 100, tutorialTemperature)},
		{Name: "ttft", Description: `20 × "Hello world", 16 tokens, one at a time on an idle engine (time to first token)`,
			Concurrency: 1, Count: 20, gen: repeat(fixed("Hello world"), 16, tutorialTemperature)},
		{Name: "bench", Description: `100 × "Prompt {i}: Tell me about AI", 50 tokens, greedy (the tutorial's comprehensive benchmark)`,
			Count: 100, gen: repeat(func(i int) string { return fmt.Sprintf("Prompt %d: Tell me about AI", i) }, 50, 0)},
		{Name: "utilization", Description: `50 × "Test", 100 tokens each, all at once (the tutorial's GPU utilization run)`,
			Count: 50, gen: repeat(fixed("Test"), 100, tutorialTemperature)},
	}
}

// SweepBatchSizes are the tutorial's batch sizes.
var SweepBatchSizes = []int{1, 5, 10, 20, 50, 100}

// Batch is the sweep's workload at one batch size: n × "Test prompt {i}",
// 50 tokens, all at once.
func Batch(n int) Workload {
	return Workload{Name: fmt.Sprintf("batch-%d", n), Description: fmt.Sprintf("%d × \"Test prompt\", 50 tokens, all at once", n),
		Count: n, gen: repeat(fixed("Test prompt"), 50, tutorialTemperature)}
}

// Lookup finds a workload by name, with an error listing the names.
func Lookup(name string) (Workload, error) {
	var names []string
	for _, w := range Builtin() {
		if w.Name == name {
			return w, nil
		}
		names = append(names, w.Name)
	}
	sort.Strings(names)
	return Workload{}, fmt.Errorf("unknown workload %q (have: %s)", name, strings.Join(names, ", "))
}
