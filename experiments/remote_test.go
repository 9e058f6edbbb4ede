package experiments

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/report"
	"benchtop/server/servertest"
	"benchtop/session"
	"benchtop/workloads"
)

// serveTiny is `benchtop serve` over a tiny CPU engine on loopback.
func serveTiny(t *testing.T) string {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = 16, 512
	return servertest.Start(t, cfg).URL
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

// A run against a fleet with one server down: the per-target table says
// "down: connection refused" in its State column and the whole error in a
// note (and the JSON's why); the run has no GPU utilization, since NVML
// sees this machine's GPUs, not the servers' — n/a with the reason in the
// table, null with the reason in the JSON.
func TestRemoteRunTables(t *testing.T) {
	up, down := serveTiny(t), closedPort(t)
	s, err := session.Open(session.Options{Model: "tiny", Engine: engine.DefaultConfig(),
		Remote: session.RemoteOptions{URLs: []string{up, down}, MetricsInterval: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, _ := workloads.Lookup("bench")
	r, err := RunReport(context.Background(), s, w, Params{Requests: 6})
	if err != nil {
		t.Fatal(err)
	}
	var per *report.Table
	for _, tb := range r.Tables {
		if strings.HasPrefix(tb.Title, "Per target") {
			per = tb
		}
	}
	if per == nil {
		t.Fatalf("no per-target table in %d tables", len(r.Tables))
	}
	row := per.Rows[1]
	if state := row[1]; state != "down: connection refused" {
		t.Fatalf("down server's state %q", state)
	}
	notes := strings.Join(per.Notes, "\n")
	if !strings.Contains(notes, down+" is down: connect:") || !strings.Contains(notes, "dial tcp") {
		t.Fatalf("no note with the whole error: %s", notes)
	}
	for _, x := range per.Rows {
		if len(x[1]) > 40 {
			t.Errorf("state cell of %d characters: %q", len(x[1]), x[1])
		}
	}
	gpuRow := ""
	for _, x := range r.Tables[0].Rows {
		if strings.HasPrefix(x[0], "GPU utilization") {
			gpuRow = x[0] + " " + x[1]
		}
	}
	if gpuRow != "GPU utilization (%) n/a (remote target)" {
		t.Fatalf("GPU utilization row %q", gpuRow)
	}
	b, err := json.Marshal(r.Doc)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Util    *float64        `json:"gpu_utilization_pct"`
		NA      string          `json:"gpu_utilization_na"`
		PerGPU  []float64       `json:"gpu_utilization_per_gpu_pct"`
		Sources []report.Source `json:"sources"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Util != nil || doc.NA != "remote target" || doc.PerGPU != nil {
		t.Fatalf("JSON GPU utilization %v, n/a %q, per GPU %v", doc.Util, doc.NA, doc.PerGPU)
	}
	if len(doc.Sources) != 2 || !strings.Contains(doc.Sources[1].Why, "dial tcp") {
		t.Fatalf("JSON sources %+v", doc.Sources)
	}
}

func TestShortCause(t *testing.T) {
	for _, c := range []struct{ why, want string }{
		{`connect: target http://h:1: GET /v1/models: connect: Get "http://h:1/v1/models": dial tcp 127.0.0.1:1: connect: connection refused`, "connection refused"},
		{"dropped: unexpected EOF", "unexpected EOF"},
		{`http_5xx (HTTP 503): {"error": {"message": "overloaded"}}`, "http_5xx (HTTP 503)"},
		{"timeout: no response headers within the header timeout", "no response headers within the header timeout"},
		{"engine: " + strings.Repeat("x", 80), "engine"},
		{"", "unknown"},
	} {
		if got := shortCause(c.why); got != c.want {
			t.Errorf("shortCause(%q) = %q, want %q", c.why, got, c.want)
		}
	}
}
