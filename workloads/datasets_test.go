package workloads

import (
	"strings"
	"testing"
	"time"
)

func words(s string) (int, error) { return len(strings.Fields(s)), nil }

func TestReadShareGPT(t *testing.T) {
	in := `[
 {"id": "a", "conversations": [{"from": "human", "value": "hi there"}, {"from": "gpt", "value": "one two three"}]},
 {"id": "b", "conversations": [{"from": "gpt", "value": "no question"}]},
 {"id": "c", "conversations": [{"from": "system", "value": "x"}, {"from": "human", "value": "q"}, {"from": "gpt", "value": "a b"}]}
]`
	specs, skipped, err := ReadShareGPT(strings.NewReader(in), words)
	if err != nil || skipped != 1 || len(specs) != 2 || specs[0].Prompt != "hi there" || specs[0].MaxTokens != 3 || specs[1].MaxTokens != 2 {
		t.Fatalf("%+v %d %v", specs, skipped, err)
	}
	_, _, err = ReadShareGPT(strings.NewReader("[\n{\"id\": 1,\n\"conversations\": [}]"), words)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("syntax error does not name line 3: %v", err)
	}
	_, _, err = ReadShareGPT(strings.NewReader("[\n{\"id\": 5}\n]"), words)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("type error does not name line 2: %v", err)
	}
}

func TestReadJSONL(t *testing.T) {
	in := "{\"prompt\": \"a\", \"output_len\": 5}\n\n{\"prompt\": \"b\", \"output_len\": 7, \"arrival_time\": 1.5}\n"
	specs, err := ReadJSONL(strings.NewReader(in))
	if err != nil || len(specs) != 2 || specs[1].Arrival != 1500*time.Millisecond || specs[1].MaxTokens != 7 {
		t.Fatalf("%+v %v", specs, err)
	}
	w := FromSpecs("trace", "t", specs)
	if w.Arrival.Kind != "trace" || w.Specs(0)[1].Arrival != 1500*time.Millisecond {
		t.Fatal("arrival times are not replayed")
	}
	for in, line := range map[string]string{
		"{\"prompt\": \"a\", \"output_len\": 5}\n{\"prompt\": \"b\"}":                      "line 2",
		"{\"prompt\": \"a\", \"output_len\": 5}\n\n{\"prompt\": \"b\", \"output_len\": 0}": "line 3",
		"not json": "line 1",
		"{\"prompt\": \"a\", \"output_len\": 5, \"x\": 1}":             "line 1",
		"{\"prompt\": \"a\", \"output_len\": 2, \"arrival_time\": -1}": "line 1",
		"": "no requests",
	} {
		if _, err := ReadJSONL(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), line) {
			t.Errorf("%q: error %v, want one naming %q", in, err, line)
		}
	}
}

// The parsers never panic, whatever they are fed (seed corpus in
// testdata/fuzz; run with go test -fuzz FuzzReadJSONL ./workloads).
func FuzzReadJSONL(f *testing.F) {
	f.Add("{\"prompt\": \"a\", \"output_len\": 5}\n")
	f.Add("{\"prompt\": \"b\", \"output_len\": 7, \"arrival_time\": 1.5}\n{}")
	f.Fuzz(func(t *testing.T, in string) {
		specs, err := ReadJSONL(strings.NewReader(in))
		if err == nil && len(specs) == 0 {
			t.Fatal("no error and no requests")
		}
	})
}

func FuzzReadShareGPT(f *testing.F) {
	f.Add(`[{"id": "a", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}]`)
	f.Add(`[{"conversations": []}, {}]`)
	f.Add(`[{"id": 1, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [{"text": "yo"}]}]}]`)
	f.Add(`[{"conversations": [{"from": "human", "value": "q"}, {"from": "bing", "value": "a"}, {"from": "human", "value": "q2"}, {"from": "bard", "value": "b"}]}]`)
	f.Add(`[1, "x", null, {"conversations": {"from": "human"}}]`)
	f.Fuzz(func(t *testing.T, in string) {
		specs, _, err := ReadShareGPT(strings.NewReader(in), words)
		for _, s := range specs {
			if err == nil && (s.MaxTokens < 1 || s.MaxTokens > MaxLength || s.Prompt == "" || s.Line < 1) {
				t.Fatalf("bad spec %+v", s)
			}
		}
	})
}
