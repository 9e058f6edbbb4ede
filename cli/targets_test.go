package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"benchtop/servermetrics"
	"benchtop/snapshot"
)

// serveProcess is `benchtop serve` as a real process (the test binary in
// child mode) on a free loopback port.
type serveProcess struct {
	url string
	cmd *exec.Cmd
	mu  sync.Mutex
	log []string
}

var servingRE = regexp.MustCompile(`serving \S+ on (http://127\.0\.0\.1:\d+)`)

func startServe(t *testing.T, extra ...string) *serveProcess {
	t.Helper()
	args := append([]string{"serve", "--model", "tiny", "--cpu-memory", "0.25", "--max-num-batched-tokens", "512", "--port", "0", "--quiet"}, extra...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BENCHTOP_CLI_CHILD="+strings.Join(args, " "))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd}
	t.Cleanup(func() { p.kill() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			p.mu.Unlock()
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
		close(ready)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			t.Fatalf("serve ended: %s", p.output())
		}
		p.url = u
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start: %s", p.output())
	}
	return p
}

func (p *serveProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

// kill ends the process as a crash does (SIGKILL), and reaps it.
func (p *serveProcess) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// scrapeTimeout bounds the tests' own scrapes: a loaded machine's server
// may take seconds to answer (the default, the 1 s interval, is too short).
const scrapeTimeout = 30 * time.Second

func fetch(t *testing.T, url string) *servermetrics.Sample {
	t.Helper()
	smp, err := servermetrics.Fetch(context.Background(), servermetrics.Options{URL: url, Timeout: scrapeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	return smp
}

func finished(t *testing.T, url string) float64 {
	t.Helper()
	return fetch(t, url).Get(servermetrics.FinishedRequests).Value
}

// waitServer polls a server's /metrics until ok accepts a scrape, while
// ch (the benchtop driving it) runs. The deadline only bounds a hang: the
// tests wait on what the server has done, never on a time.
func waitServer(t *testing.T, ch *child, url, what string, ok func(*servermetrics.Sample) bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		smp, err := servermetrics.Fetch(context.Background(), servermetrics.Options{URL: url, Timeout: scrapeTimeout})
		if err == nil && ok(smp) {
			return
		}
		select {
		case <-ch.done:
			t.Fatalf("benchtop exited (%d) before %s:\n%s", ch.code, what, ch.stderr())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last scrape: %v):\n%s", what, err, ch.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seenThrough waits until a closed loop of clients driving the server at
// url has seen a request through and gone on: the server has finished
// more of its requests, since it had finished base, than there are
// clients, plus the session's probe and warm-up. What a client saw
// through, the collector has, so a snapshot taken after holds it.
func seenThrough(t *testing.T, ch *child, url string, base float64, clients int) {
	t.Helper()
	waitServer(t, ch, url, "a request seen through", func(smp *servermetrics.Sample) bool {
		return smp.Get(servermetrics.FinishedRequests).Value >= base+float64(clients)+3
	})
}

// run, sweep --over rate, headless dash and metrics against a real
// `benchtop serve` process: their numbers are the server's own.
func TestTargetEndToEnd(t *testing.T) {
	srv := startServe(t)
	dir := t.TempDir()
	remote := []string{"--target", srv.url, "--model", "tiny", "--metrics-interval", "1s", "--quiet"}

	before := fetch(t, srv.url)
	out := filepath.Join(dir, "run.json")
	code, stdout, stderr := runCLI(append([]string{"run", "--workload", "bench", "--requests", "12", "--json", out}, remote...)...)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	after := fetch(t, srv.url)
	for _, w := range []string{"tiny at " + srv.url, "Per target", srv.url + "  up "} {
		if !strings.Contains(stdout, w) {
			t.Errorf("run output lacks %q:\n%s", w, stdout)
		}
	}
	var doc struct {
		NumRequests   int     `json:"num_requests"`
		ThroughputTPS float64 `json:"throughput_tps"`
		Backend       string  `json:"backend"`
		Model         string  `json:"model"`
		Sources       []struct {
			Finished  int               `json:"finished"`
			OutputTok int64             `json:"output_tokens"`
			Gauges    map[string]string `json:"gauge_sources"`
		} `json:"sources"`
		Targets []struct {
			Model    string `json:"model"`
			Answered string `json:"model_answered"`
		} `json:"targets"`
	}
	raw, _ := os.ReadFile(out)
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// The server counted the run's requests and tokens, plus the session's
	// one-token probe and its warm-up request (up to 2 tokens).
	gen := after.Get(servermetrics.GenerationTokens).Value - before.Get(servermetrics.GenerationTokens).Value
	fin := after.Get(servermetrics.FinishedRequests).Value - before.Get(servermetrics.FinishedRequests).Value
	if doc.NumRequests != 12 || doc.Backend != "remote" || doc.Model != "tiny" || len(doc.Sources) != 1 || doc.Sources[0].OutputTok != 600 ||
		fin != 12+2 || gen < 600+2 || gen > 600+3 || doc.Targets[0].Answered != "tiny" || doc.Sources[0].Gauges["running"] != "vllm:num_requests_running" {
		t.Fatalf("run document %s\nserver: %g finished, %g generation tokens", raw, fin, gen)
	}
	if strings.Contains(string(raw), "OPENAI_API_KEY") {
		t.Fatal("the key's variable leaked into the report")
	}

	code, stdout, stderr = runCLI(append([]string{"sweep", "--over", "rate", "--values", "20,80", "--workload", "bench", "--requests", "8"}, remote...)...)
	if code != 0 || !strings.Contains(stdout, "Sweep over Rate (req/s) (tiny at "+srv.url) {
		t.Fatalf("sweep: exit %d: %s\n%s", code, stderr, stdout)
	}

	// The headless dashboard runs until it has seen requests through (its
	// --duration is never reached), then SIGTERM ends it as --duration
	// would: a time would not be enough on a loaded machine.
	base := finished(t, srv.url)
	ch := startChild(t, nil, append([]string{"dash", "--headless", "--duration", "10m", "--workload", "bench", "--arrival", "closed:4",
		"--snapshot-on-exit", "--snapshot-dir", dir}, remote...)...)
	seenThrough(t, ch, srv.url, base, 4)
	ch.signal(syscall.SIGTERM)
	if code := ch.wait(time.Minute); code != 143 || !strings.Contains(ch.stderr(), "output tok/s") {
		t.Fatalf("dash: exit %d: %s", code, ch.stderr())
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "benchtop-snapshot-*.json"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v", snaps)
	}
	f, err := snapshot.Read(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Targets) != 1 || f.Targets[0].Gauges.Latest == nil || len(f.Targets[0].Gauges.Series) == 0 || len(f.Sources) != 1 ||
		f.Status.Device.Backend != "remote" || f.Metrics.Finished == 0 {
		t.Fatalf("snapshot: targets %+v sources %+v", f.Targets, f.Sources)
	}

	code, stdout, _ = runCLI("metrics", srv.url)
	if code != 0 || !strings.Contains(stdout, "vllm:generation_tokens_total") || !strings.Contains(stdout, "not exposed by this server") {
		t.Fatalf("metrics: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("metrics", "--json", srv.url)
	var js map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &js) != nil || js["server"] != "vllm" {
		t.Fatalf("metrics --json: exit %d\n%s", code, stdout)
	}
}

// A fleet of two `benchtop serve` processes, one killed mid-run: the
// headless dashboard goes on, the snapshot shows the dead one down and its
// failed requests counted, and compare --target runs each server alone.
func TestTargetFleetWithAKill(t *testing.T) {
	a, b := startServe(t), startServe(t)
	dir := t.TempDir()
	fleet := []string{"--target", a.url, "--target", b.url, "--model", "tiny", "--metrics-interval", "1s", "--quiet"}
	code, stdout, stderr := runCLI(append([]string{"compare", "--workload", "bench", "--requests", "4"}, fleet...)...)
	if code != 0 || !strings.Contains(stdout, "Target comparison") || !strings.Contains(stdout, a.url) || !strings.Contains(stdout, b.url) {
		t.Fatalf("compare: exit %d: %s\n%s", code, stderr, stdout)
	}
	// Events, not times: b is killed once both servers have served the
	// dashboard, and the dashboard is stopped once all four clients are on
	// a (least outstanding sends none of them to b while it is up, so b is
	// down by then: a request failed on it and was counted).
	baseA, baseB := finished(t, a.url), finished(t, b.url)
	ch := startChild(t, nil, append([]string{"dash", "--headless", "--duration", "10m", "--workload", "bench", "--arrival", "closed:4",
		"--snapshot-on-exit", "--snapshot-dir", dir}, fleet...)...)
	for _, srv := range []struct {
		url  string
		base float64
	}{{a.url, baseA}, {b.url, baseB}} {
		// The probe, a warm-up, and one of the dashboard's requests.
		waitServer(t, ch, srv.url, "both servers to serve", func(smp *servermetrics.Sample) bool {
			return smp.Get(servermetrics.FinishedRequests).Value >= srv.base+3
		})
	}
	b.kill()
	waitServer(t, ch, a.url, "all four clients on the live server", func(smp *servermetrics.Sample) bool {
		return smp.Get(servermetrics.Running).Value+smp.Get(servermetrics.Waiting).Value >= 4
	})
	ch.signal(syscall.SIGTERM)
	if code := ch.wait(time.Minute); code != 143 {
		t.Fatalf("dash: exit %d: %s", code, ch.stderr())
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "benchtop-snapshot-*.json"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v", snaps)
	}
	f, err := snapshot.Read(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sources) != 2 {
		t.Fatalf("sources %+v", f.Sources)
	}
	live, dead := f.Sources[0], f.Sources[1]
	failed := 0
	for _, n := range dead.FailedByKind {
		failed += n
	}
	t.Logf("dead: %s, failed %v; live finished %d; collector failed %d", dead.Why, dead.FailedByKind, live.Finished, f.Metrics.Failed)
	if dead.Up || dead.Why == "" || failed == 0 || !live.Up || live.Finished == 0 || f.Metrics.Failed == 0 {
		t.Fatalf("live %+v\ndead %+v", live, dead)
	}
}

// Replicas from the command line: bench with two CPU replicas has a row
// per replica; bad target and parallel flags fail clearly.
func TestDataParallelAndBadTargetFlags(t *testing.T) {
	code, stdout, stderr := runCLI("bench", "--model", "tiny", "--cpu-memory", "0.25", "--max-num-batched-tokens", "512", "--requests", "8",
		"--warmup", "0", "--device", "cpu", "--data-parallel-size", "2", "--dp-policy", "round-robin", "--quiet")
	if code != 0 || !strings.Contains(stdout, "Per replica (round-robin)") || !strings.Contains(stdout, "×2 data parallel") {
		t.Fatalf("bench with 2 replicas: exit %d: %s\n%s", code, stderr, stdout)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--target", "ftp://x"}, `--target "ftp://x": want http://HOST:PORT`},
		{[]string{"run", "--target", "http://127.0.0.1:1", "--data-parallel-size", "2"}, "--data-parallel-size and --devices are for the in-process engine"},
		{[]string{"run", "--data-parallel-size", "0"}, "--data-parallel-size 0: must be between 1 and 64"},
		{[]string{"run", "--devices", "0,x"}, `"x" is not a GPU number`},
		{[]string{"run", "--devices", "0,1", "--data-parallel-size", "3"}, "lists 2 GPUs for --data-parallel-size 3"},
		{[]string{"run", "--model", "tiny", "--devices", "0,1", "--device", "cpu"}, "the CPU backend has no GPUs to pick"},
		{[]string{"run", "--model", "tiny", "--device", "cuda", "--data-parallel-size", "2"}, "no GPU found"},
		{[]string{"run", "--target", "http://127.0.0.1:1", "--metrics-interval", "0s"}, "--metrics-interval 0s: must be positive"},
		{[]string{"run", "--target", "http://127.0.0.1:1", "--model", "tiny"}, "no target answered"},
		{[]string{"compare", "--target", "http://127.0.0.1:1", "--config", "a:max-num-seqs=2"}, "with --target each server is a configuration"},
		{[]string{"serve", "--target", "http://127.0.0.1:1"}, "--target is for the commands that drive a server"},
		{[]string{"serve", "--port", "70000"}, "--port 70000"},
		{[]string{"metrics", "http://127.0.0.1:1"}, "connection refused"},
		{[]string{"memory", "--target", "http://127.0.0.1:1"}, "no target answered"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c.args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("benchtop %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}

// --help lists serve and metrics; their own --help names their flags.
func TestServeAndMetricsHelp(t *testing.T) {
	code, out, _ := runCLI("--help")
	if code != 0 || !strings.Contains(out, "\n  serve ") || !strings.Contains(out, "\n  metrics ") {
		t.Fatalf("--help:\n%s", out)
	}
	for c, flags := range map[string][]string{"serve": {"--host", "--port", "--served-model-name", "--data-parallel-size"},
		"metrics": {"--json", "--server"}, "run": {"--target", "--api", "--model-name", "--api-key-env", "--metrics-path", "--metrics-interval", "--dp-policy", "--devices"}} {
		code, out, _ := runCLI(c, "--help")
		for _, f := range flags {
			if code != 0 || !strings.Contains(out, f) {
				t.Errorf("%s --help lacks %s:\n%s", c, f, out)
			}
		}
	}
}
