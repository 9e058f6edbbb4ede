package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"benchtop/snapshot"
)

var tinyFlags = []string{"--model", "tiny", "--cpu-memory", "0.25", "--max-num-batched-tokens", "512"}

// shortRequests finish within a second on tiny, under -race too.
var shortRequests = []string{"--prompt-len", "fixed:32", "--output-len", "fixed:16"}

// someDone accepts a progress line once at least one request has finished.
var progress = regexp.MustCompile(`: (\d+)/\d+ requests done`)

func someDone(line string) bool {
	m := progress.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	n, _ := strconv.Atoi(m[1])
	return n > 0
}

// A signal in the middle of a run (SIGTERM, SIGHUP, SIGINT) still prints
// the table of the requests that finished and writes their JSON, both
// marked partial, and exits with 128 + the signal's number. Each run is
// far longer than any machine takes to finish its first request (the
// signal comes then), so a fast machine cannot finish it first.
func TestSignalledRunWritesWhatFinished(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		name string
		code int
		cmd  []string
	}{
		{syscall.SIGTERM, "SIGTERM", 143, []string{"run", "--workload", "chat", "--requests", "400", "--max-num-seqs", "16"}},
		{syscall.SIGHUP, "SIGHUP", 129, []string{"run", "--workload", "clients", "--requests", "4000", "--max-num-seqs", "16"}},
		{syscall.SIGINT, "SIGINT", 130, []string{"bench", "--requests", "4000", "--warmup", "0", "--max-num-seqs", "4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.json")
			args := append(append(c.cmd, tinyFlags...), "--json", out)
			if c.cmd[0] == "run" {
				args = append(args, shortRequests...)
			}
			ch := startChild(t, nil, args...)
			ch.waitLine("a finished request", 3*time.Minute, someDone)
			ch.signal(c.sig)
			if code := ch.wait(time.Minute); code != c.code {
				t.Fatalf("exit %d; want %d:\n%s", code, c.code, ch.stderr())
			}
			if !strings.Contains(ch.stderr(), "stopped by "+c.name) {
				t.Errorf("stderr does not say what stopped it:\n%s", ch.stderr())
			}
			if s := ch.stdout.String(); !strings.Contains(s, "partial") || !strings.Contains(s, "Output tokens/s") {
				t.Errorf("the table is missing or not marked partial:\n%s", s)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("no JSON: %v\n%s", err, ch.stderr())
			}
			var doc struct {
				Partial     bool   `json:"partial"`
				StoppedBy   string `json:"stopped_by"`
				NumRequests int    `json:"num_requests"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if !doc.Partial || doc.StoppedBy != c.name || doc.NumRequests < 1 {
				t.Fatalf("JSON: %+v; want partial, stopped by %s, the finished requests", doc, c.name)
			}
		})
	}
}

// A sweep or comparison stopped midway prints and writes the points it
// measured, marked partial.
func TestSignalledSweepWritesWhatFinished(t *testing.T) {
	for _, cmd := range [][]string{
		{"sweep", "--over", "concurrency", "--values", "1,2", "--requests", "4000"},
		{"compare", "--workload", "clients", "--requests", "4000", "--config", "a:max-num-seqs=8", "--config", "b:max-num-seqs=16"},
	} {
		t.Run(cmd[0], func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.json")
			ch := startChild(t, nil, append(append(append(cmd, tinyFlags...), shortRequests...), "--json", out)...)
			ch.waitLine("a finished request", 3*time.Minute, someDone)
			ch.signal(syscall.SIGTERM)
			if code := ch.wait(time.Minute); code != 143 {
				t.Fatalf("exit %d:\n%s", code, ch.stderr())
			}
			if s := ch.stdout.String(); !strings.Contains(s, "— partial") || !strings.Contains(s, "Partial: ") {
				t.Errorf("the table is not marked partial:\n%s", s)
			}
			var doc struct {
				Partial   bool              `json:"partial"`
				StoppedBy string            `json:"stopped_by"`
				Results   []json.RawMessage `json:"results"`
			}
			raw, err := os.ReadFile(out)
			if err != nil || json.Unmarshal(raw, &doc) != nil || !doc.Partial || doc.StoppedBy != "SIGTERM" || doc.Results == nil {
				t.Fatalf("JSON %s (%v)", raw, err)
			}
		})
	}
}

// checkSnapshot wants exactly one whole snapshot set in dir.
func checkSnapshot(t *testing.T, dir string) {
	t.Helper()
	jsons, _ := filepath.Glob(filepath.Join(dir, snapshot.NamePrefix+"*.json"))
	all, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(jsons) != 1 || len(all) != 3 {
		t.Fatalf("snapshot files %v", all)
	}
	f, err := snapshot.Read(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.CheckSet(jsons[0], f); err != nil {
		t.Fatal(err)
	}
	if f.Metrics.Finished == 0 || len(f.Requests) == 0 {
		t.Fatalf("the snapshot holds no finished request: %d", f.Metrics.Finished)
	}
}

// dashTarget is a `benchtop serve` for a dashboard under test to drive, so
// that the test can tell from the server when the dashboard has seen
// requests through (a closed loop of two clients: dashClients).
func dashTarget(t *testing.T) (url string, base float64, flags []string) {
	t.Helper()
	srv := startServe(t)
	flags = []string{"--target", srv.url, "--model", "tiny", "--metrics-interval", "1s", "--workload", "clients", "--arrival", "closed:2"}
	return srv.url, finished(t, srv.url), append(flags, shortRequests...)
}

const dashClients = 2

// Headless, --snapshot-on-exit is honoured on every signal, with its exit
// code. The signal comes once the dashboard has seen requests through (the
// server says so), so its snapshot holds them however slow the machine.
func TestHeadlessDashSnapshotsOnEverySignal(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			url, base, target := dashTarget(t)
			ch := startChild(t, nil, append([]string{"dash", "--headless", "--snapshot-on-exit", "--snapshot-dir", dir}, target...)...)
			seenThrough(t, ch, url, base, dashClients)
			ch.signal(c.sig)
			if code := ch.wait(time.Minute); code != c.code {
				t.Fatalf("exit %d; want %d:\n%s", code, c.code, ch.stderr())
			}
			checkSnapshot(t, dir)
		})
	}
}

// The dashboard on a terminal writes its snapshot when its terminal goes
// away (the kernel's SIGHUP), on SIGHUP and on SIGTERM, and exits with
// their codes. The terminal goes once the dashboard has drawn and seen
// requests through.
func TestDashboardSnapshotsOnHangup(t *testing.T) {
	for _, c := range []struct {
		name string
		sig  syscall.Signal // 0: close the terminal
		code int
	}{{"terminal closed", 0, 129}, {"SIGHUP", syscall.SIGHUP, 129}, {"SIGTERM", syscall.SIGTERM, 143}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tty, screen, hangup := openPTY(t, 30, 100)
			dir := t.TempDir()
			url, base, target := dashTarget(t)
			ch := startChild(t, tty, append([]string{"dash", "--snapshot-on-exit", "--snapshot-dir", dir}, target...)...)
			seenThrough(t, ch, url, base, dashClients)
			deadline := time.Now().Add(2 * time.Minute) // bounds a hang only
			for !strings.Contains(screen(), "tok/s") {
				if time.Now().After(deadline) {
					t.Fatalf("the dashboard drew nothing:\n%s\n%s", screen(), ch.stderr())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if c.sig == 0 {
				hangup()
			} else {
				ch.signal(c.sig)
			}
			if code := ch.wait(time.Minute); code != c.code {
				t.Fatalf("exit %d; want %d:\n%s", code, c.code, ch.stderr())
			}
			checkSnapshot(t, dir)
		})
	}
}

// The first signal stops a command that took its context and lets it
// finish; a second quits at once. A command that took none (it has nothing
// to write) quits at once on the first.
func TestSignalPaths(t *testing.T) {
	var stderr bytes.Buffer
	e := newEnv(&stderr, &stderr)
	exited := -1
	e.exit = func(code int) { exited = code }
	e.onSignal(syscall.SIGTERM)
	if exited != 143 {
		t.Fatalf("a command without a context: exit %d", exited)
	}
	e, exited = newEnv(&stderr, &stderr), -1
	e.exit = func(code int) { exited = code }
	ctx, stop := e.context()
	defer stop()
	e.onSignal(syscall.SIGHUP)
	if exited != -1 || ctx.Err() == nil {
		t.Fatalf("the first signal: exit %d, context %v", exited, ctx.Err())
	}
	e.onSignal(syscall.SIGINT)
	if exited != 130 {
		t.Fatalf("a second signal: exit %d", exited)
	}
	if code := e.exitCode("run", nil); code != 129 {
		t.Fatalf("a command that finished after SIGHUP: exit %d", code)
	}
	if !strings.Contains(stderr.String(), "SIGHUP: stopping") {
		t.Fatalf("stderr %q", stderr.String())
	}
}
