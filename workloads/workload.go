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
	// Description is built from what the requests are (for n of them),
	// how they arrive, and the overrides applied, so that WithCount,
	// WithArrival and WithLengths keep it true.
	what  func(n int) string
	when  string
	notes string
}

// describe rebuilds Description from its parts (a workload made as a
// literal, without what, keeps the Description it was given).
func (w *Workload) describe() {
	if w.what == nil {
		return
	}
	w.Description = w.what(w.Count)
	if w.when != "" {
		w.Description += ", " + w.when
	}
	w.Description += w.notes
}

// note adds an override to the description.
func (w *Workload) note(s string) {
	w.notes += s
	if w.what == nil {
		w.Description += s
		return
	}
	w.describe()
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
	if w.what == nil {
		if a.Kind != "all" && a.Kind != "" {
			w.Description += "; " + a.String()
		}
		return w
	}
	w.when = a.String() // the built-in's own arrival is replaced, not contradicted
	w.describe()
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
		w.note("; prompts " + prompt.String())
	}
	if output != nil {
		w.note("; outputs " + output.String())
	}
	return w
}

// FromSpecs is a workload over fixed requests read from source (a dataset
// file's name, for the description). Asked for more requests than it has
// (WithCount), it cycles through them.
func FromSpecs(name, source string, specs []Spec) Workload {
	trace := false
	for _, s := range specs {
		trace = trace || s.Arrival > 0
	}
	have := len(specs)
	what := func(n int) string {
		switch {
		case n == have:
			return fmt.Sprintf("%s from %s", requests(n), source)
		case n < have:
			return fmt.Sprintf("the first %s of the %d in %s", requests(n), have, source)
		}
		return fmt.Sprintf("%s cycling through the %d in %s", requests(n), have, source)
	}
	w := Workload{Name: name, Count: have, what: what, gen: func(_ int64, n int) []Spec {
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
		w.when = "at the file's arrival times"
	}
	w.describe()
	return w
}

// requests is "1 request" or "N requests".
func requests(n int) string { return fmt.Sprintf("%d %s", n, plural(n)) }

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

// WithCount returns the workload with n requests (n ≤ 0: unchanged); its
// description says n.
func (w Workload) WithCount(n int) Workload {
	if n > 0 {
		w.Count = n
		w.describe()
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

// Builtin lists the tutorial's workloads. Each description is built for
// its count and arrival (see WithCount, WithArrival).
func Builtin() []Workload {
	chat := func(n int) string { return fmt.Sprintf("%d chat %s, ShareGPT-like lengths", n, plural(n)) }
	ws := []Workload{
		{Name: "throughput", what: tutorial("the tutorial's throughput test", `× "Test prompt", 50 tokens each`), when: allAtOnce,
			Count: 100, gen: repeat(fixed("Test prompt"), 50, tutorialTemperature)},
		{Name: "latency", what: tutorial("the tutorial's latency test", `× "Hello world", 100 tokens`),
			Count: 1, gen: repeat(fixed("Hello world"), 100, tutorialTemperature)},
		{Name: "ttft", what: tutorial("time to first token", `× "Hello world", 16 tokens`), when: "one at a time on an idle engine",
			Concurrency: 1, Count: 20, gen: repeat(fixed("Hello world"), 16, tutorialTemperature)},
		{Name: "bench", what: tutorial("the tutorial's comprehensive benchmark", `× "Prompt {i}: Tell me about AI", 50 tokens, greedy`), when: allAtOnce,
			Count: 100, gen: repeat(func(i int) string { return fmt.Sprintf("Prompt %d: Tell me about AI", i) }, 50, 0)},
		{Name: "utilization", what: tutorial("the tutorial's GPU utilization run", `× "Test", 100 tokens each`), when: allAtOnce,
			Count: 50, gen: repeat(fixed("Test"), 100, tutorialTemperature)},
		{Name: "chat", what: chat, when: "Poisson 8 req/s",
			Count: 200, Arrival: Arrival{Kind: "poisson", Rate: 8}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "bursty", what: chat, when: "gamma arrivals 8 req/s with CV 3 (bursts)",
			Count: 200, Arrival: Arrival{Kind: "gamma", Rate: 8, CV: 3}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "ramp", what: chat, when: "arrival rate ramping 2 → 30 req/s over 20 s",
			Count: 300, Arrival: Arrival{Kind: "ramp", Rate: 2, Rate2: 30, Period: 20 * time.Second}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "clients", what: chat, when: "a closed loop of 16 clients",
			Count: 200, Concurrency: 16, Arrival: Arrival{Kind: "closed", N: 16}, gen: synthetic(ShareGPTPrompt, ShareGPTOutput, 0, 0)},
		{Name: "long-context", what: func(n int) string {
			return fmt.Sprintf("%d prefill-heavy %s: 1,500–1,900-token prompts, 32 tokens out", n, plural(n))
		}, when: allAtOnce,
			Count: 20, gen: synthetic(Length{Kind: "uniform", A: 1500, B: 1900}, Length{Kind: "fixed", A: 32}, 0, 0)},
		{Name: "shared-prefix", what: func(n int) string {
			return fmt.Sprintf("%s sharing a 1,000-token system prompt, 20–60 own tokens, 64 out", requests(n))
		}, when: allAtOnce,
			Count: 64, gen: synthetic(Length{Kind: "uniform", A: 20, B: 60}, Length{Kind: "fixed", A: 64}, 1000, 0)},
	}
	for i := range ws {
		ws[i].describe()
	}
	return ws
}

const allAtOnce = "all at once"

// tutorial describes n copies of a tutorial prompt: "TEST: N × PROMPT".
func tutorial(test, prompt string) func(int) string {
	return func(n int) string { return fmt.Sprintf("%s: %d %s", test, n, prompt) }
}

func plural(n int) string {
	if n == 1 {
		return "request"
	}
	return "requests"
}

// SweepBatchSizes are the tutorial's batch sizes.
var SweepBatchSizes = []int{1, 5, 10, 20, 50, 100}

// Batch is the sweep's workload at one batch size: n × "Test prompt {i}",
// 50 tokens, all at once.
func Batch(n int) Workload {
	w := Workload{Name: fmt.Sprintf("batch-%d", n), what: func(n int) string { return fmt.Sprintf(`%d × "Test prompt", 50 tokens`, n) },
		when: allAtOnce, Count: n, gen: repeat(fixed("Test prompt"), 50, tutorialTemperature)}
	w.describe()
	return w
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
