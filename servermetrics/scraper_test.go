package servermetrics

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestScraper(t *testing.T) {
	var tokens atomic.Int64
	tokens.Store(100)
	var auth, path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		path.Store(r.URL.Path)
		fmt.Fprintf(w, "# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total{engine=\"0\",model_name=\"m\"} %d", tokens.Add(50))
	}))
	defer srv.Close()
	t.Setenv("BENCHTOP_TEST_METRICS_KEY", "sk-metrics-1")
	s, err := NewScraper(Options{URL: srv.URL, APIKeyEnv: "BENCHTOP_TEST_METRICS_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Scrape(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.Server != VLLM || a.Get(GenerationTokens).Value != 150 || a.Get(GenerationTokens).HasRate {
		t.Fatalf("first %+v", a.Get(GenerationTokens))
	}
	time.Sleep(20 * time.Millisecond)
	b, err := s.Scrape(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v := b.Get(GenerationTokens); !v.HasRate || v.Rate <= 0 || v.Rate > 50/0.02 {
		t.Fatalf("second %+v", v)
	}
	if s.Latest() != b || auth.Load() != "Bearer sk-metrics-1" || path.Load() != "/metrics" {
		t.Fatalf("latest, auth %v, path %v", auth.Load(), path.Load())
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, s), "sk-metrics-1") {
		t.Fatal("the key is printed")
	}
}

func TestScraperPaths(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path)
		mu.Unlock()
		fmt.Fprintln(w, "llamacpp:requests_processing 1")
	}))
	defer srv.Close()
	for _, o := range []Options{{URL: srv.URL}, {URL: srv.URL + "/"}, {URL: srv.URL + "/custom/metrics"}, {URL: srv.URL + "/api", Path: "prom"}} {
		if _, err := Fetch(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, " ") != "/metrics /metrics /custom/metrics /api/prom" {
		t.Fatalf("paths %q", got)
	}
	for _, u := range []string{"", "127.0.0.1:8000", "ftp://x/metrics"} {
		if _, err := NewScraper(Options{URL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestScraperFailures(t *testing.T) {
	body := "garbage here"
	status := http.StatusOK
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	s, _ := NewScraper(Options{URL: srv.URL, MaxBodyBytes: 1 << 10})
	if _, err := s.Scrape(context.Background()); err == nil || !strings.Contains(err.Error(), "parse metrics") {
		t.Fatalf("garbage: %v", err)
	}
	mu.Lock()
	status, body = http.StatusServiceUnavailable, ""
	mu.Unlock()
	if _, err := s.Scrape(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("503: %v", err)
	}
	mu.Lock()
	status, body = http.StatusOK, strings.Repeat("x 1\n", 1000)
	mu.Unlock()
	if _, err := s.Scrape(context.Background()); err == nil || !strings.Contains(err.Error(), ErrTooLarge.Error()) {
		t.Fatalf("too large: %v", err)
	}
	if s.Latest() != nil {
		t.Fatal("a failed scrape became the latest sample")
	}
	srv.Close()
	if _, err := s.Scrape(context.Background()); err == nil {
		t.Fatal("a closed server answered")
	}
}

func TestScraperTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, _ := NewScraper(Options{URL: srv.URL, Timeout: 50 * time.Millisecond})
	t0 := time.Now()
	// The server answers only at the test's end: the timeout is what ends
	// the scrape (the bound is far above 50 ms for a loaded machine).
	if _, err := s.Scrape(context.Background()); err == nil || time.Since(t0) > 30*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(t0))
	}
}

func TestScraperRun(t *testing.T) {
	b, err := os.ReadFile("testdata/sglang.txt")
	if err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	up.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	s, _ := NewScraper(Options{URL: srv.URL, Interval: 10 * time.Millisecond, Server: SGLang})
	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed int
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, func(sm *Sample, err error) {
			switch {
			case err != nil:
				failed++
				if failed == 2 {
					cancel()
				}
			case sm.Server == SGLang && sm.Get(Running).Value == 7:
				ok++
				if ok == 3 {
					up.Store(false)
				}
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end")
	}
	if ok != 3 || failed != 2 {
		t.Fatalf("ok %d failed %d", ok, failed)
	}
}

// A scrape's default timeout is the interval, but never under 2 s (a
// short interval must not fail a loaded server's scrapes) nor over 10 s.
func TestScraperDefaultTimeout(t *testing.T) {
	for _, c := range []struct{ interval, want time.Duration }{
		{200 * time.Millisecond, 2 * time.Second},
		{5 * time.Second, 5 * time.Second},
		{time.Minute, 10 * time.Second},
	} {
		s, err := NewScraper(Options{URL: "http://127.0.0.1:1", Interval: c.interval})
		if err != nil {
			t.Fatal(err)
		}
		if s.opts.Timeout != c.want || s.http.Timeout != c.want {
			t.Errorf("interval %s: timeout %s (client %s), want %s", c.interval, s.opts.Timeout, s.http.Timeout, c.want)
		}
	}
}
