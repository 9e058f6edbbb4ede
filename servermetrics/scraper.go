package servermetrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Options configure a Scraper. Zero values take the defaults.
type Options struct {
	// URL is the server, e.g. http://127.0.0.1:8000, to which Path is
	// appended; a URL with a path and no Path is the exposition itself.
	URL string
	// Path of the exposition (default "/metrics").
	Path string
	// Interval between scrapes in Run (default 1 s).
	Interval time.Duration
	// Timeout of one scrape (default: the interval, within 2–10 s; Run
	// scrapes one at a time, so a slow scrape delays the next one and a
	// short interval does not make a loaded server's scrapes fail).
	Timeout time.Duration
	// Server forces a server's names; Unknown detects them on each scrape.
	Server Server
	// MaxBodyBytes bounds one exposition (default 16 MiB).
	MaxBodyBytes int64
	// APIKeyEnv names an environment variable whose key is sent as
	// "Authorization: Bearer" (llama.cpp guards /metrics with its API key);
	// never printed.
	APIKeyEnv string
	// Transport replaces the HTTP transport (tests); nil: the default one.
	Transport http.RoundTripper
}

// Scraper reads one server's /metrics, maps it, and keeps the previous
// sample for rates. Scrape and Run are safe from one goroutine at a time;
// Latest from any.
type Scraper struct {
	url    string
	opts   Options
	http   *http.Client
	auth   func(*http.Request) // a closure, so printing the scraper never shows the key
	mu     sync.Mutex
	prev   *Sample
	latest *Sample
}

// NewScraper checks opts.
func NewScraper(opts Options) (*Scraper, error) {
	u, err := url.Parse(strings.TrimSpace(opts.URL))
	if err != nil {
		return nil, fmt.Errorf("metrics target %q: %w", opts.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("metrics target %q: want http://HOST:PORT", opts.URL)
	}
	if opts.Path == "" && strings.Trim(u.Path, "/") != "" {
		opts.Path = u.Path // the URL names the exposition itself
		u.Path = ""
	}
	if opts.Path == "" {
		opts.Path = "/metrics"
	}
	if !strings.HasPrefix(opts.Path, "/") {
		opts.Path = "/" + opts.Path
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = min(max(opts.Interval, 2*time.Second), 10*time.Second)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + opts.Path
	s := &Scraper{url: u.String(), opts: opts, http: &http.Client{Transport: opts.Transport, Timeout: opts.Timeout},
		auth: func(*http.Request) {}}
	if opts.APIKeyEnv != "" {
		if key := os.Getenv(opts.APIKeyEnv); key != "" {
			s.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
		}
	}
	return s, nil
}

// URL is the exposition's address.
func (s *Scraper) URL() string { return s.url }

// String names the scraper's URL (never its key).
func (s *Scraper) String() string { return "servermetrics.Scraper{" + s.url + "}" }

// GoString is String.
func (s *Scraper) GoString() string { return s.String() }

// Interval is the time between scrapes in Run.
func (s *Scraper) Interval() time.Duration { return s.opts.Interval }

// Latest is the last successful sample (nil before one); safe from any
// goroutine.
func (s *Scraper) Latest() *Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}

// Scrape fetches, parses and maps the exposition once, with rates and
// windows since the previous successful scrape. The sample is stamped when
// the response arrived.
func (s *Scraper) Scrape(ctx context.Context) (*Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	s.auth(req)
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	at := time.Now()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("scrape %s: HTTP %d", s.url, resp.StatusCode)
	}
	fams, err := Parse(resp.Body, s.opts.MaxBodyBytes)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	sample := Map(s.opts.Server, fams, at)
	s.mu.Lock()
	defer s.mu.Unlock()
	sample.Since(s.prev)
	s.prev, s.latest = sample, sample
	return sample, nil
}

// Run scrapes every interval until ctx ends, handing each sample, or each
// failure (the server is down: sample nil), to on. on runs on Run's
// goroutine and should be quick.
func (s *Scraper) Run(ctx context.Context, on func(*Sample, error)) {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		sample, err := s.Scrape(ctx)
		if ctx.Err() != nil {
			return
		}
		on(sample, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Fetch scrapes url once (Path and Server from opts, when given), for
// `benchtop metrics URL`.
func Fetch(ctx context.Context, opts Options) (*Sample, error) {
	s, err := NewScraper(opts)
	if err != nil {
		return nil, err
	}
	return s.Scrape(ctx)
}
