package report

import (
	"fmt"
	"sort"
)

// Failure counts the requests of one finish reason that did not end as
// asked: failed (rejected, aborted, error) or cut short (max_model_len),
// with the first one's reason in words.
type Failure struct {
	Finish  string `json:"finish"`
	Count   int    `json:"count"`
	Example string `json:"example"` // "ID: reason" of the first one seen
}

// Truncated is the finish reason of an output cut at max_model_len: the
// request completed, short of what it asked.
const Truncated = "max_model_len"

// Completed says whether a finish reason is a request's own end: its
// whole output (length), its EOS or a stop token. Anything else is a
// failure, apart from Truncated.
func Completed(finish string) bool {
	switch finish {
	case "length", "eos", "stop":
		return true
	}
	return false
}

// CountFinishes counts failed and truncated requests in counts by finish
// reason.
func CountFinishes(counts map[string]int) (failed, truncated int) {
	for k, v := range counts {
		switch {
		case k == Truncated:
			truncated += v
		case !Completed(k):
			failed += v
		}
	}
	return failed, truncated
}

// FailuresOf lists the failed and truncated requests by finish reason from
// the counts, each with the first example given for it (examples maps a
// finish reason to "ID: reason"), failures first, then the largest
// counts.
func FailuresOf(counts map[string]int, examples map[string]string) []Failure {
	out := []Failure{}
	for k, v := range counts {
		if v > 0 && !Completed(k) {
			out = append(out, Failure{Finish: k, Count: v, Example: examples[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Finish == Truncated) != (b.Finish == Truncated) {
			return b.Finish == Truncated
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Finish < b.Finish
	})
	return out
}

// AddFailures adds a row per finish reason of the failed and truncated
// requests, and a note with each one's example; nothing when every request
// completed.
func (t *Table) AddFailures(fs []Failure) {
	for _, f := range fs {
		what := "Failed (" + f.Finish + ")"
		if f.Finish == Truncated {
			what = "Truncated (output cut at max_model_len)"
		}
		t.Add(what, f.Count)
		if f.Example != "" {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: %d, e.g. %s", what, f.Count, f.Example))
		}
	}
}
