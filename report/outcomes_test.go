package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"benchtop/metrics"
)

// Failed and truncated requests are counted apart from the completed ones
// and listed by reason, failures first; a report stopped early says so in
// its document and under its table.
func TestOutcomesAndPartial(t *testing.T) {
	counts := map[string]int{"length": 6, "eos": 1, "max_model_len": 5, "rejected": 2, "aborted": 3}
	failed, truncated := CountFinishes(counts)
	if failed != 5 || truncated != 5 {
		t.Fatalf("failed %d, truncated %d", failed, truncated)
	}
	fs := FailuresOf(counts, map[string]string{"rejected": "r-1: too long"})
	if len(fs) != 3 || fs[0].Finish != "aborted" || fs[1].Finish != "rejected" || fs[1].Example != "r-1: too long" || fs[2].Finish != Truncated {
		t.Fatalf("%+v", fs)
	}
	m := MeasuresOf(metrics.Summary{Requests: 17, Finishes: counts}, 2*time.Second, fs, nil)
	if m.NumRequests != 12 || m.Failed != 5 || m.Truncated != 5 || m.ThroughputRPS != 6 || m.Finishes["eos"] != 1 {
		t.Fatalf("%+v", m)
	}
	tb := &Table{Title: "T", Headers: []string{"Metric", "Value"}}
	tb.AddFailures(fs)
	r := &Report{Tables: []*Table{tb}, Doc: Run{Measures: m}}
	r.MarkPartial("SIGTERM")
	raw, _ := json.Marshal(r.Doc)
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	if doc["partial"] != true || doc["stopped_by"] != "SIGTERM" || doc["truncated_requests"] != 5.0 {
		t.Fatalf("%s", raw)
	}
	var b strings.Builder
	tb.Print(&b)
	for _, want := range []string{"Failed (aborted)", "Truncated (output cut at max_model_len)", "r-1: too long", "Stopped by SIGTERM"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, b.String())
		}
	}
	if (&Report{Doc: 3}).header() != nil {
		t.Fatal("a header for a document without one")
	}
}
