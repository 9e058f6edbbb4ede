package workloads

import (
	"strconv"
	"strings"
	"testing"
)

// Every built-in's description says the count it runs and the arrival it
// uses, after WithCount and WithArrival as before.
func TestDescriptionFollowsCountAndArrival(t *testing.T) {
	for _, w := range Builtin() {
		if !strings.Contains(w.Description, strconv.Itoa(w.Count)+" ") {
			t.Errorf("%s: %q does not say its %d requests", w.Name, w.Description, w.Count)
		}
		for _, n := range []int{1, 7, 20} {
			if n == w.Count {
				continue
			}
			// The count is the description's first number.
			d := w.WithCount(n).Description
			want := strings.Replace(w.Description, strconv.Itoa(w.Count)+" ", strconv.Itoa(n)+" ", 1)
			if n == 1 {
				want = strings.Replace(want, "requests", "request", 1)
			}
			if d != want {
				t.Errorf("%s.WithCount(%d): %q, want %q", w.Name, n, d, want)
			}
			if n == 1 && (strings.Contains(d, "1 chat requests") || strings.Contains(d, "1 requests") || strings.Contains(d, "1 prefill-heavy requests")) {
				t.Errorf("%s.WithCount(1): %q is not singular", w.Name, d)
			}
		}
		// Applied in any order, the modifiers keep every part true.
		p := Length{Kind: "fixed", A: 9, source: "fixed:9"}
		a := Arrival{Kind: "constant", Rate: 3}
		for _, d := range []string{
			w.WithArrival(a).WithLengths(&p, nil).WithCount(13).Description,
			w.WithCount(13).WithLengths(&p, nil).WithArrival(a).Description,
		} {
			if !strings.Contains(d, "13 ") || !strings.Contains(d, "constant 3 req/s") || !strings.Contains(d, "prompts fixed:9") ||
				strings.Contains(d, "Poisson") || strings.Contains(d, "closed loop of 16") || strings.Contains(d, "ramping") ||
				strings.Contains(d, "one at a time") || strings.Contains(d, "all at once") {
				t.Errorf("%s: %q", w.Name, d)
			}
		}
	}
	if d := Batch(5).WithCount(8).Description; !strings.HasPrefix(d, "8 × ") {
		t.Errorf("Batch(5).WithCount(8): %q", d)
	}
}

func TestDatasetDescription(t *testing.T) {
	specs := []Spec{{ID: "a", Prompt: "x", MaxTokens: 1}, {ID: "b", Prompt: "y", MaxTokens: 1}, {ID: "c", Prompt: "z", MaxTokens: 1}}
	w := FromSpecs("d", "d.jsonl", specs)
	for n, want := range map[int]string{
		0: "3 requests from d.jsonl",
		3: "3 requests from d.jsonl",
		1: "the first 1 request of the 3 in d.jsonl",
		2: "the first 2 requests of the 3 in d.jsonl",
		7: "7 requests cycling through the 3 in d.jsonl",
	} {
		if got := w.WithCount(n).Description; got != want {
			t.Errorf("WithCount(%d): %q, want %q", n, got, want)
		}
		if got := len(w.WithCount(n).Specs(0)); n > 0 && got != n {
			t.Errorf("WithCount(%d) gave %d specs", n, got)
		}
	}
	specs[1].Arrival = 5e8
	if d := FromSpecs("d", "d.jsonl", specs).Description; d != "3 requests from d.jsonl, at the file's arrival times" {
		t.Errorf("trace: %q", d)
	}
}
