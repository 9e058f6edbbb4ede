package workloads

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Numbers are checked for magnitude, not only sign: none of these parses
// into a negative period, an overflowed offset or 300,000 goroutines.
func TestArrivalMagnitudes(t *testing.T) {
	for _, bad := range []string{"closed:1e18", "closed:300000", "closed:4097", "poisson:1e-300", "poisson:1e7", "constant:1e-4",
		"ramp:1:1:1e300", "ramp:1e-300:1:10", "ramp:1:1e9:10", "gamma:1:1e-9", "gamma:1:1e9", "gamma:1e300:1", "closed:NaN", "poisson:Inf"} {
		if a, err := ParseArrival(bad); err == nil {
			t.Errorf("ParseArrival(%q) = %+v, want an error", bad, a)
		}
	}
	for _, good := range []string{"closed:4096", "poisson:0.001", "constant:1000000", "ramp:0.001:1000000:1000000", "gamma:0.001:100", "gamma:5:0.01"} {
		a, err := ParseArrival(good)
		if err != nil {
			t.Errorf("ParseArrival(%q): %v", good, err)
			continue
		}
		offs := a.Offsets(20000, 1)
		for i, o := range offs {
			if o < 0 || o > maxOffset || (i > 0 && o < offs[i-1]) {
				t.Fatalf("%s: offset %d is %v after %v", good, i, o, offs[max(i-1, 0)])
			}
		}
	}
}

func TestLengthMagnitudes(t *testing.T) {
	for _, bad := range []string{"fixed:1e18", "fixed:1048577", "uniform:1:1e300", "normal:1e300:1", "normal:5:1e300", "lognormal:100:1e300", "lognormal:1e30:1", "lognormal:100:4.5"} {
		if l, err := ParseLength(bad, false); err == nil {
			t.Errorf("ParseLength(%q) = %+v, want an error", bad, l)
		}
	}
	r := rand.New(rand.NewPCG(3, 3))
	for _, edge := range []string{"fixed:1048576", "uniform:1:1048576", "normal:1048576:1048576", "lognormal:1048576:4", "lognormal:1:4"} {
		l, err := ParseLength(edge, true)
		if err != nil {
			t.Fatalf("%s: %v", edge, err)
		}
		for range 2000 {
			if v := l.Draw(r); v < 1 || v > MaxLength {
				t.Fatalf("%s drew %d", edge, v)
			}
		}
	}
}

// Real ShareGPT-style files: ShareGPT's roles, OpenAI's, the other
// assistants', role/content keys, a messages list, content parts, numeric
// ids. Each spec keeps its line.
func TestReadShareGPTVariants(t *testing.T) {
	in := `[
{"id": "a", "conversations": [{"from": "human", "value": "one"}, {"from": "gpt", "value": "x y"}]},
{"id": "b", "conversations": [{"from": "user", "value": "two"}, {"from": "assistant", "value": "x y z"}]},
{"id": "c", "conversations": [{"from": "human", "value": "three"}, {"from": "chatgpt", "value": "x"}]},
{"id": "d", "conversations": [{"from": "human", "value": "four"}, {"from": "bing", "value": "x"}]},
{"id": "e", "conversations": [{"from": "Human", "value": "five"}, {"from": "Bard", "value": "x"}]},
{"id": 6, "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "six"}, {"role": "assistant", "content": "x y"}]},
{"conversation": [{"role": "user", "content": [{"type": "text", "text": "se"}, {"type": "text", "text": "ven"}]}, {"role": "assistant", "content": "x"}]},
{"id": "h", "conversations": [{"from": "gpt", "value": "unasked"}]}
]`
	specs, skipped, err := ReadShareGPT(strings.NewReader(in), words)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"one", "two", "three", "four", "five", "six", "seven"}
	if skipped != 1 || len(specs) != len(want) {
		t.Fatalf("%d specs, %d skipped: %+v", len(specs), skipped, specs)
	}
	for i, s := range specs {
		if s.Prompt != want[i] || s.Line != i+2 || s.MaxTokens < 1 {
			t.Errorf("spec %d: %+v, want prompt %q on line %d", i, s, want[i], i+2)
		}
	}
	if specs[5].ID != "6" || specs[6].ID != "sharegpt-6" {
		t.Errorf("ids %q %q", specs[5].ID, specs[6].ID)
	}
	// Nothing usable: the error lists what the file has.
	_, _, err = ReadShareGPT(strings.NewReader(`[{"dialog": [{"speaker": "me", "says": "hi"}]}, {"conversations": [{"from": "alice", "value": "q"}, {"from": "bob", "value": "a"}]}]`), words)
	for _, w := range []string{`"alice" (1)`, `"bob" (1)`, "dialog", "conversations", "from", "value", "line 1"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not list %s", err, w)
		}
	}
	if _, _, err := ReadShareGPT(strings.NewReader(`{"conversations": []}`), words); err == nil || !strings.Contains(err.Error(), "array") {
		t.Errorf("an object, not an array: %v", err)
	}
}

// A dataset is checked against the model length up front, naming the line.
func TestCheckFitNamesTheLine(t *testing.T) {
	specs, err := ReadJSONL(strings.NewReader("{\"prompt\": \"a b\", \"output_len\": 5}\n\n{\"prompt\": \"a b c d e f\", \"output_len\": 5}\n{\"prompt\": \"a b c d e f g\", \"output_len\": 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := func(s Spec) (int, error) { return words(s.Prompt) }
	err = CheckFit(specs, 6, tokens)
	if err == nil || !strings.Contains(err.Error(), "line 3: a prompt of 6 tokens does not fit max_model_len 6") || !strings.Contains(err.Error(), "1 more") {
		t.Fatalf("%v", err)
	}
	if err := CheckFit(specs, 8, tokens); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := CheckFit(specs, 8, func(Spec) (int, error) { return 0, boom }); !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("%v", err)
	}
	if err := CheckFit([]Spec{{ID: "req-3", PromptLen: 9}}, 8, func(s Spec) (int, error) { return s.PromptLen, nil }); err == nil || !strings.Contains(err.Error(), "request req-3") {
		t.Fatalf("%v", err)
	}
	if w := FromSpecs("d", "d", specs).Specs(0); w[2].Line != 4 {
		t.Fatalf("a dataset workload lost the lines: %+v", w[2])
	}
}

// The parsers never panic and what they accept is sane (seed corpora in
// testdata/fuzz hold the inputs above; go test -fuzz FuzzParseArrival).
func FuzzParseArrival(f *testing.F) {
	for _, s := range []string{"closed:1e18", "closed:300000", "poisson:1e-300", "ramp:1:1:1e300", "gamma:8:3", "ramp:2:30:20", "all", "trace", "constant:-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArrival(s)
		if err != nil {
			return
		}
		if a.Kind == "closed" && (a.N < 1 || a.N > MaxClients) {
			t.Fatalf("%q: %d clients", s, a.N)
		}
		var last time.Duration
		for i, o := range a.Offsets(64, 1) {
			if o < last || o > maxOffset {
				t.Fatalf("%q: offset %d is %v after %v", s, i, o, last)
			}
			last = o
		}
	})
}

func FuzzParseLength(f *testing.F) {
	for _, s := range []string{"fixed:1e18", "uniform:1:1e300", "lognormal:100:1e300", "normal:161:50", "sharegpt", "fixed:0", "uniform:5:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLength(s, false)
		if err != nil {
			return
		}
		r := rand.New(rand.NewPCG(1, 1))
		for range 32 {
			if v := l.Draw(r); v < 1 || v > MaxLength {
				t.Fatalf("%q drew %d", s, v)
			}
		}
	})
}
