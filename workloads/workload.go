package workloads

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Spec is one request of a workload. A prompt is text, or — when Prompt is
// empty — PromptLen synthetic tokens, the first PrefixLen of them shared by
// every request of the workload (a common system prompt).
type Spec struct {
	ID          string
	Prompt      string
	PromptLen   int
	PrefixLen   int
	MaxTokens   int
	Temperature float32
	TopP        float32
	TopK        int
	IgnoreEOS   bool
	Arrival     time.Duration // offset from the workload's start (0: at once)
	Line        int           // the dataset file's line it came from (0: not from a file)
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
	// Arrival, when a process (constant, poisson, gamma, ramp), sets each
	// request's send offset; "trace" keeps the offsets the specs carry.
	Arrival Arrival
	gen     func(seed int64, n int) []Spec
}

// Specs generates the workload's requests for seed.
func (w Workload) Specs(seed int64) []Spec {
	specs := w.gen(seed, w.Count)
	if offs := w.Arrival.Offsets(len(specs), seed); offs != nil {
		for i := range specs {
			specs[i].Arrival = offs[i]
		}
	}
	return specs
}

// WithArrival sends the workload's requests by a (closed loop: N clients).
func (w Workload) WithArrival(a Arrival) Workload {
	w.Arrival = a
	w.Concurrency = 0
	if a.Kind == "closed" {
		w.Concurrency = a.N
	}
	if a.Kind != "all" && a.Kind != "" {
		w.Description += "; " + a.String()
	}
	return w
}

// WithLengths replaces the prompts by synthetic ones of drawn lengths
// and/or the output lengths by drawn ones (nil: unchanged).
func (w Workload) WithLengths(prompt, output *Length) Workload {
	gen := w.gen
	w.gen = func(seed int64, n int) []Spec {
		specs := gen(seed, n)
		r := rand.New(rand.NewPCG(uint64(seed), 0x1e))
		for i := range specs {
			if prompt != nil {
				specs[i].Prompt, specs[i].PromptLen = "", prompt.Draw(r)
			}
			if output != nil {
				specs[i].MaxTokens = output.Draw(r)
			}
		}
		return specs
	}
	if prompt != nil {
		w.Description += "; prompts " + prompt.String()
	}
	if output != nil {
		w.Description += "; outputs " + output.String()
	}
	return w
}

// FromSpecs is a workload over fixed requests (a dataset file).
func FromSpecs(name, desc string, specs []Spec) Workload {
	trace := false
	for _, s := range specs {
		trace = trace || s.Arrival > 0
	}
	w := Workload{Name: name, Description: desc, Count: len(specs), gen: func(_ int64, n int) []Spec {
		out := make([]Spec, 0, n)
		for i := 0; i < n; i++ {
			s := specs[i%len(specs)]
			s.ID = fmt.Sprintf("%s-%d", s.ID, i)
			out = append(out, s)
		}
		return out
	}}
	if trace {
		w.Arrival = Arrival{Kind: "trace"}
	}
	return w
}

// synthetic is n requests of drawn lengths, shared prefix tokens first.
func synthetic(prompt, output Length, prefix int, temp float32) func(int64, int) []Spec {
	return func(seed int64, n int) []Spec {
		r := rand.New(rand.NewPCG(uint64(seed), 0x5e))
		out := make([]Spec, n)
		for i := range out {
			out[i] = Spec{ID: fmt.Sprintf("req-%d", i), PromptLen: prefix + prompt.Draw(r), PrefixLen: prefix,
				MaxTokens: output.Draw(r), Temperature: temp, TopP: 1, IgnoreEOS: true}
		}
		return out
	}
}

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
		{Name: "chat", Description: "200 chat requests, ShareGPT-like lengths, Poisson 8 req/s",
			Count: 200, Arrival: Arrival{Kind: "poisson", Rate: 8}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "bursty", Description: "200 chat requests, ShareGPT-like lengths, gamma arrivals 8 req/s with CV 3 (bursts)",
			Count: 200, Arrival: Arrival{Kind: "gamma", Rate: 8, CV: 3}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "ramp", Description: "300 chat requests, ShareGPT-like lengths, arrival rate ramping 2 → 30 req/s over 20 s",
			Count: 300, Arrival: Arrival{Kind: "ramp", Rate: 2, Rate2: 30, Period: 20 * time.Second}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "clients", Description: "200 chat requests, ShareGPT-like lengths, a closed loop of 16 clients",
			Count: 200, Concurrency: 16, Arrival: Arrival{Kind: "closed", N: 16}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "long-context", Description: "20 prefill-heavy requests: 1,500–1,900-token prompts, 32 tokens out, all at once",
			Count: 20, gen: synthetic(Length{Kind: "uniform", A: 1500, B: 1900}, Length{Kind: "fixed", A: 32}, 0, 0)},
		{Name: "shared-prefix", Description: "64 requests sharing a 1,000-token system prompt, 20–60 own tokens, 64 out",
			Count: 64, gen: synthetic(Length{Kind: "uniform", A: 20, B: 60}, Length{Kind: "fixed", A: 64}, 1000, 0)},
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
