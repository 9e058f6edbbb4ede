package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// API picks the endpoint requests go to.
type API int

const (
	Completions API = iota // POST /v1/completions
	Chat                   // POST /v1/chat/completions
)

func (a API) String() string {
	if a == Chat {
		return "chat"
	}
	return "completions"
}

// ParseAPI reads "completions" or "chat".
func ParseAPI(s string) (API, error) {
	switch s {
	case "completions", "":
		return Completions, nil
	case "chat":
		return Chat, nil
	}
	return 0, fmt.Errorf("api %q: want completions or chat", s)
}

func (a API) path() string {
	if a == Chat {
		return "/v1/chat/completions"
	}
	return "/v1/completions"
}

// Options configure a Client. Zero durations and sizes take the defaults.
type Options struct {
	// BaseURL is the server, e.g. http://127.0.0.1:8000 (a trailing /v1 is
	// accepted and dropped).
	BaseURL string
	API     API
	// Model is the served model id; empty: ResolveModel asks /v1/models.
	Model string
	// APIKeyEnv names the environment variable holding the API key, sent as
	// "Authorization: Bearer"; empty, or an unset variable: no key. The key
	// is never printed, logged or put in an error (the client holds it in a
	// closure, and prints as its server, API and model).
	APIKeyEnv string
	// ConnectTimeout bounds dialing (default 10 s).
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for response headers (default 60 s).
	HeaderTimeout time.Duration
	// FirstChunkTimeout bounds the wait from the headers to the first
	// event; a server queues a request before its first token (default 10 min).
	FirstChunkTimeout time.Duration
	// IdleTimeout bounds the gap between two events after the first
	// (default 60 s).
	IdleTimeout time.Duration
	// MaxLineBytes bounds one line of the stream (default 1 MiB).
	MaxLineBytes int
	// MaxBodyBytes bounds a whole response (default 64 MiB).
	MaxBodyBytes int64
	// ReturnTokenIDs asks for vLLM's token_ids on every chunk, so chunks
	// are counted exactly (servers that do not know it ignore it; OpenAI's
	// own API rejects it).
	ReturnTokenIDs bool
	// ContinuousUsage asks for vLLM's usage on every chunk
	// (stream_options.continuous_usage_stats), likewise.
	ContinuousUsage bool
	// Transport replaces the HTTP transport (tests); nil: one built from
	// the timeouts above.
	Transport http.RoundTripper
}

// Client sends streaming requests to one OpenAI-compatible server and times
// every chunk. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	opts    Options
	auth    func(*http.Request) // sets the key's header; a closure, so no printing of the client shows it
	http    *http.Client
	nowFunc func() time.Time

	mu    sync.Mutex
	model string
}

// New checks opts and builds a client. It reads the API key from the
// environment once.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(opts.BaseURL))
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", opts.BaseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q: want http://HOST:PORT or https://HOST:PORT", opts.BaseURL)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1")
	u.RawQuery, u.Fragment = "", ""
	if opts.API != Completions && opts.API != Chat {
		return nil, fmt.Errorf("api %d: want completions or chat", opts.API)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.ConnectTimeout, 10*time.Second)
	def(&opts.HeaderTimeout, 60*time.Second)
	def(&opts.FirstChunkTimeout, 10*time.Minute)
	def(&opts.IdleTimeout, 60*time.Second)
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = 1 << 20
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 20
	}
	c := &Client{base: u, opts: opts, model: opts.Model, nowFunc: time.Now}
	c.auth = func(*http.Request) {}
	if opts.APIKeyEnv != "" {
		if key := os.Getenv(opts.APIKeyEnv); key != "" {
			c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
		}
	}
	rt := opts.Transport
	if rt == nil {
		d := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           d.DialContext,
			ResponseHeaderTimeout: opts.HeaderTimeout,
			TLSHandshakeTimeout:   opts.ConnectTimeout,
			MaxIdleConns:          4096,
			MaxIdleConnsPerHost:   4096, // one connection per concurrent stream
			IdleConnTimeout:       90 * time.Second,
			DisableCompression:    true, // a compressed stream arrives in bursts
		}
	}
	c.http = &http.Client{Transport: rt}
	return c, nil
}

// String names the client's server, API and model (never its key).
func (c *Client) String() string {
	return fmt.Sprintf("openai.Client{%s %s model=%q}", c.base, c.opts.API, c.Model())
}

// GoString is String: %#v shows no more than %v.
func (c *Client) GoString() string { return c.String() }

// BaseURL is the server's address as the client uses it.
func (c *Client) BaseURL() string { return c.base.String() }

// API is the endpoint the client sends to.
func (c *Client) API() API { return c.opts.API }

// Model is the model id requests name ("" until resolved).
func (c *Client) Model() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.model
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func (c *Client) url(path string) string {
	u := *c.base
	u.Path += path
	return u.String()
}

func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.auth(req)
	return req, nil
}

// Models lists the served models (GET /v1/models).
func (c *Client) Models(ctx context.Context) ([]ModelCard, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.HeaderTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/models", nil)
	if err != nil {
		return nil, &Error{Kind: KindRequest, Err: err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, classify(ctx, err, false)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, classify(ctx, err, true)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp.StatusCode, body)
	}
	var list ModelList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, &Error{Kind: KindMalformed, Message: "GET /v1/models: not a model list", Err: err}
	}
	return list.Data, nil
}

// ErrNoModels is returned by ResolveModel when the server lists none.
var ErrNoModels = errors.New("the server lists no models")

// ResolveModel returns the model requests name: the one given in Options,
// else the first that /v1/models lists, which it then keeps.
func (c *Client) ResolveModel(ctx context.Context) (string, error) {
	if m := c.Model(); m != "" {
		return m, nil
	}
	ms, err := c.Models(ctx)
	if err != nil {
		return "", fmt.Errorf("pick a model from %s/v1/models: %w", c.base, err)
	}
	if len(ms) == 0 || ms[0].ID == "" {
		return "", fmt.Errorf("%s/v1/models: %w", c.base, ErrNoModels)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.model == "" {
		c.model = ms[0].ID
	}
	return c.model, nil
}
