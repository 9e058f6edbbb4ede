package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// step is one write of a scripted stream: after delay, raw is written and
// flushed; abort drops the connection instead.
type step struct {
	delay time.Duration
	raw   string
	abort bool
}

// scripted serves every POST with steps as an SSE stream, handing each
// request to seen (when set) first.
func scripted(t *testing.T, steps []step, seen func(r *http.Request, body []byte)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if seen != nil {
			seen(r, body)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for _, s := range steps {
			if s.delay > 0 {
				select {
				case <-time.After(s.delay):
				case <-r.Context().Done():
					return
				}
			}
			if s.abort {
				panic(http.ErrAbortHandler) // the connection is dropped mid-stream
			}
			if _, err := io.WriteString(w, s.raw); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func comp(text string) string {
	b, _ := json.Marshal(CompletionResponse{ID: "cmpl-1", Object: "text_completion", Model: "m",
		Choices: []CompletionChoice{{Text: text}}})
	return "data: " + string(b) + "\n\n"
}

func compIDs(text string, ids ...int32) string {
	b, _ := json.Marshal(CompletionResponse{ID: "cmpl-1", Object: "text_completion", Model: "m",
		Choices: []CompletionChoice{{Text: text, TokenIDs: ids}}})
	return "data: " + string(b) + "\n\n"
}

func compFinish(reason string) string {
	b, _ := json.Marshal(CompletionResponse{ID: "cmpl-1", Object: "text_completion", Model: "m",
		Choices: []CompletionChoice{{FinishReason: &reason}}})
	return "data: " + string(b) + "\n\n"
}

func usage(prompt, completion int) string {
	b, _ := json.Marshal(CompletionResponse{ID: "cmpl-1", Object: "text_completion", Model: "m",
		Choices: []CompletionChoice{}, Usage: &Usage{prompt, completion, prompt + completion}})
	return "data: " + string(b) + "\n\n"
}

func chatChunk(role string, content *string) string {
	b, _ := json.Marshal(ChatResponse{ID: "chatcmpl-1", Object: "chat.completion.chunk", Model: "m",
		Choices: []ChatChoice{{Delta: &ChatDelta{Role: role, Content: content}}}})
	return "data: " + string(b) + "\n\n"
}

const done = "data: [DONE]\n\n"

func newClient(t *testing.T, url string, mod func(*Options)) *Client {
	t.Helper()
	o := Options{BaseURL: url, Model: "m"}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// events records what the callback saw.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) on(ev Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }

func (e *events) kinds() string {
	var s []string
	for _, ev := range e.evs {
		if ev.Kind == EvContent {
			s = append(s, fmt.Sprintf("content+%d=%d", ev.Tokens, ev.OutputTokens))
		} else {
			s = append(s, ev.Kind.String())
		}
	}
	return strings.Join(s, " ")
}

func run(t *testing.T, c *Client, req Request) (Result, *events) {
	t.Helper()
	ev := &events{}
	res := c.Stream(context.Background(), req, ev.on)
	return res, ev
}

var basic = Request{Prompt: "hi", MaxTokens: 5, IgnoreEOS: true}

func TestStreamOneTokenPerChunk(t *testing.T) {
	srv := scripted(t, []step{{raw: comp("a")}, {raw: comp("b")}, {raw: comp("c")}, {raw: compFinish("length")}, {raw: usage(2, 3)}, {raw: done}}, nil)
	res, ev := run(t, newClient(t, srv.URL, nil), basic)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.CountedTokens != 3 || res.OutputTokens != 3 || res.PromptTokens != 2 || res.Text != "abc" || res.FinishReason != "length" {
		t.Fatalf("result %+v", res)
	}
	if got := ev.kinds(); got != "headers content+1=1 content+1=2 content+1=3 usage" {
		t.Fatalf("events %q", got)
	}
	tm := res.Timing
	order := []time.Time{tm.Start, tm.Headers, tm.FirstContent, tm.LastContent, tm.Usage, tm.End}
	for i := 1; i < len(order); i++ {
		if order[i].IsZero() || order[i].Before(order[i-1]) {
			t.Fatalf("timing out of order at %d: %+v", i, tm)
		}
	}
	if tm.Sent.IsZero() || tm.Sent.Before(tm.Start) || !tm.Role.IsZero() {
		t.Fatalf("sent/role: %+v", tm)
	}
	if len(res.Chunks) != 3 || res.Chunks[0].At != tm.FirstContent || res.Chunks[2].At != tm.LastContent {
		t.Fatalf("chunks %+v", res.Chunks)
	}
}

// Streams that end with [DONE] leave their connection for the next request.
func TestStreamReusesConnections(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	var mu sync.Mutex
	conns := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, s := range []string{comp("a"), usage(1, 1), done} {
			io.WriteString(w, s)
			w.(http.Flusher).Flush()
		}
		time.Sleep(5 * time.Millisecond) // the body's end comes after [DONE]
	})
	srv.Start()
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	for range 5 {
		if res, _ := run(t, c, basic); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Fatalf("%d connections for 5 sequential streams", conns)
	}
}

func TestStreamSeveralTokensPerChunk(t *testing.T) {
	srv := scripted(t, []step{{raw: compIDs("ab", 7, 8)}, {raw: compIDs("", 9)}, {raw: compIDs("cde", 10, 11, 12)}, {raw: usage(2, 6)}, {raw: done}}, nil)
	res, ev := run(t, newClient(t, srv.URL, nil), basic)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	// The second chunk has no text (a token held back mid-character) but
	// its token_ids say it carries one.
	if got := ev.kinds(); got != "headers content+2=2 content+1=3 content+3=6 usage" {
		t.Fatalf("events %q", got)
	}
	if fmt.Sprint(res.TokenIDs) != "[7 8 9 10 11 12]" || res.OutputTokens != 6 {
		t.Fatalf("result %+v", res)
	}
}

func TestStreamContinuousUsage(t *testing.T) {
	with := func(text string, n int) string {
		b, _ := json.Marshal(CompletionResponse{ID: "x", Choices: []CompletionChoice{{Text: text}}, Usage: &Usage{2, n, 2 + n}})
		return "data: " + string(b) + "\n\n"
	}
	var body map[string]any
	srv := scripted(t, []step{{raw: with("ab", 2)}, {raw: with("cd", 4)}, {raw: with("e", 5)}, {raw: usage(2, 5)}, {raw: done}},
		func(r *http.Request, b []byte) { _ = json.Unmarshal(b, &body) })
	res, ev := run(t, newClient(t, srv.URL, func(o *Options) { o.ContinuousUsage = true }), basic)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := ev.kinds(); got != "headers content+2=2 content+2=4 content+1=5 usage" {
		t.Fatalf("events %q", got)
	}
	if so := body["stream_options"].(map[string]any); so["continuous_usage_stats"] != true || so["include_usage"] != true {
		t.Fatalf("stream_options %v", so)
	}
}

func TestStreamEmptyChunksCarryNothing(t *testing.T) {
	srv := scripted(t, []step{{raw: comp("")}, {delay: 20 * time.Millisecond, raw: comp("")}, {raw: ": keep-alive\n\n"},
		{delay: 20 * time.Millisecond, raw: comp("a")}, {raw: comp("")}, {raw: comp("b")}, {raw: compFinish("stop")}, {raw: done}}, nil)
	res, ev := run(t, newClient(t, srv.URL, nil), basic)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := ev.kinds(); got != "headers content+1=1 content+1=2" {
		t.Fatalf("events %q", got)
	}
	if ttft := res.TTFT(); ttft < 40*time.Millisecond {
		t.Fatalf("TTFT %v: stamped at an empty chunk", ttft)
	}
	if res.Usage != nil || res.OutputTokens != 2 {
		t.Fatalf("without usage the count is the chunks': %+v", res)
	}
}

func TestStreamChatRoleChunkFirst(t *testing.T) {
	a, b, empty := "Hel", "lo", ""
	var got ChatRequest
	srv := scripted(t, []step{{raw: chatChunk("assistant", &empty)}, {delay: 40 * time.Millisecond, raw: chatChunk("", &a)},
		{raw: chatChunk("", &b)}, {raw: usage(4, 2)}, {raw: done}},
		func(r *http.Request, body []byte) {
			if r.URL.Path != "/v1/chat/completions" {
				t.Errorf("path %s", r.URL.Path)
			}
			_ = json.Unmarshal(body, &got)
		})
	res, ev := run(t, newClient(t, srv.URL+"/v1/", func(o *Options) { o.API = Chat }), Request{Prompt: "hello", MaxTokens: 2})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if k := ev.kinds(); k != "headers role content+1=1 content+1=2 usage" {
		t.Fatalf("events %q", k)
	}
	// The server sent the content 40 ms after the role: TTFT is at least
	// that (a gap between two receipts can shrink when the reader is late,
	// so the bound is on the time since the start).
	tm := res.Timing
	if tm.Role.IsZero() || !tm.Role.Before(tm.FirstContent) || res.TTFT() < 40*time.Millisecond {
		t.Fatalf("TTFT must be the first content, not the role chunk: %+v", tm)
	}
	if res.Text != "Hello" || len(got.Messages) != 1 || got.Messages[0].Content != "hello" || !got.Stream {
		t.Fatalf("text %q, request %+v", res.Text, got)
	}
}

func TestStreamUsageOnlyLastChunkReconciles(t *testing.T) {
	// The server sent 3 text chunks but says 5 tokens: its count wins.
	srv := scripted(t, []step{{raw: comp("a")}, {raw: comp("b")}, {raw: comp("c")}, {raw: usage(1, 5)}, {raw: done}}, nil)
	res, ev := run(t, newClient(t, srv.URL, nil), basic)
	if res.Err != nil || res.CountedTokens != 3 || res.OutputTokens != 5 || res.Usage.CompletionTokens != 5 {
		t.Fatalf("result %+v", res)
	}
	if last := ev.evs[len(ev.evs)-1]; last.Kind != EvUsage || last.OutputTokens != 5 {
		t.Fatalf("last event %+v", last)
	}
}

func TestStreamRequestBody(t *testing.T) {
	t.Setenv("BENCHTOP_TEST_KEY", "sk-secret-123")
	var body map[string]any
	var auth string
	srv := scripted(t, []step{{raw: comp("a")}, {raw: done}}, func(r *http.Request, b []byte) {
		auth = r.Header.Get("Authorization")
		_ = json.Unmarshal(b, &body)
	})
	c := newClient(t, srv.URL, func(o *Options) { o.APIKeyEnv = "BENCHTOP_TEST_KEY"; o.ReturnTokenIDs = true })
	seed := int64(3)
	res, _ := run(t, c, Request{PromptTokens: []int32{5, 6, 7}, MaxTokens: 9, MinTokens: 9, IgnoreEOS: true, Seed: &seed})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if auth != "Bearer sk-secret-123" {
		t.Fatalf("authorization %q", auth)
	}
	want := `{"ignore_eos":true,"max_tokens":9,"min_tokens":9,"model":"m","prompt":[5,6,7],"return_token_ids":true,"seed":3,"stream":true,"stream_options":{"include_usage":true},"temperature":0}`
	if got, _ := json.Marshal(body); string(got) != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	if res.PromptTokens != 3 {
		t.Fatalf("prompt tokens without usage: %d", res.PromptTokens)
	}
}

func TestStreamErrorEventMidStream(t *testing.T) {
	cases := map[string]string{
		"openai error object": `data: {"error":{"message":"engine died","type":"InternalServerError","code":500}}` + "\n\n",
		"vllm older object":   `data: {"object":"error","message":"engine died","type":"x","code":500}` + "\n\n",
		"tgi string":          `data: {"error":"engine died","error_type":"generation"}` + "\n\n",
		"named error event":   "event: error\ndata: engine died\n\n",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			srv := scripted(t, []step{{raw: comp("a")}, {raw: comp("b")}, {raw: raw}, {raw: comp("c")}, {raw: done}}, nil)
			res, _ := run(t, newClient(t, srv.URL, nil), basic)
			if KindOf(res.Err) != KindStreamError || !strings.Contains(res.Err.Message, "engine died") {
				t.Fatalf("err %v", res.Err)
			}
			if res.CountedTokens != 2 || len(res.Chunks) != 2 || res.Timing.FirstContent.IsZero() || res.Timing.End.IsZero() {
				t.Fatalf("partial timing lost: %+v", res)
			}
		})
	}
}

func TestStreamNullErrorIsNotAnError(t *testing.T) {
	srv := scripted(t, []step{{raw: `data: {"error":null,"choices":[{"text":"a"}]}` + "\n\n"}, {raw: done}}, nil)
	if res, _ := run(t, newClient(t, srv.URL, nil), basic); res.Err != nil || res.CountedTokens != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestStreamDroppedConnection(t *testing.T) {
	srv := scripted(t, []step{{raw: comp("a")}, {raw: comp("b")}, {abort: true}}, nil)
	res, _ := run(t, newClient(t, srv.URL, nil), basic)
	if KindOf(res.Err) != KindDropped || res.CountedTokens != 2 {
		t.Fatalf("err %v, counted %d", res.Err, res.CountedTokens)
	}
}

func TestStreamEndsBeforeDone(t *testing.T) {
	srv := scripted(t, []step{{raw: comp("a")}}, nil)
	res, _ := run(t, newClient(t, srv.URL, nil), basic)
	if KindOf(res.Err) != KindDropped || !strings.Contains(res.Err.Error(), "[DONE]") {
		t.Fatalf("err %v", res.Err)
	}
	// A stream whose finish reason came is complete even without [DONE],
	// and a [DONE] without its final newline still ends it.
	for _, steps := range [][]step{{{raw: comp("a")}, {raw: compFinish("length")}}, {{raw: comp("a")}, {raw: "data: [DONE]"}}} {
		srv := scripted(t, steps, nil)
		if res, _ := run(t, newClient(t, srv.URL, nil), basic); res.Err != nil {
			t.Fatalf("err %v", res.Err)
		}
	}
}

func TestStreamHTTPErrors(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   ErrorKind
		msg    string
	}{
		{429, `{"error":{"message":"slow down","type":"RateLimitError","code":429}}`, KindHTTP429, "slow down"},
		{400, `{"error":{"message":"max_tokens too large","type":"BadRequestError","param":"max_tokens","code":400}}`, KindHTTP4xx, "max_tokens too large"},
		{404, `{"object":"error","message":"The model x does not exist.","type":"NotFoundError","code":404}`, KindHTTP4xx, "does not exist"},
		{422, `{"error":"Input validation error","error_type":"validation"}`, KindHTTP4xx, "Input validation error"},
		{503, `upstream unavailable`, KindHTTP5xx, "upstream unavailable"},
		{500, ``, KindHTTP5xx, "Internal Server Error"},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		res, _ := run(t, newClient(t, srv.URL, nil), basic)
		srv.Close()
		if KindOf(res.Err) != c.kind || res.Err.Status != c.status || !strings.Contains(res.Err.Message, c.msg) {
			t.Errorf("HTTP %d: got %v", c.status, res.Err)
		}
		if res.Timing.Headers.IsZero() || res.Timing.End.IsZero() {
			t.Errorf("HTTP %d: timing %+v", c.status, res.Timing)
		}
	}
}

func TestStreamSlowChunks(t *testing.T) {
	const gap = 30 * time.Millisecond
	srv := scripted(t, []step{{delay: gap, raw: comp("a")}, {delay: gap, raw: comp("b")}, {delay: gap, raw: comp("c")}, {raw: done}}, nil)
	res, _ := run(t, newClient(t, srv.URL, nil), basic)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	// Chunk i left the server at least (i+1) gaps after the request came.
	// (One gap between receipts can shrink when the reader is late under
	// load; the time since the start cannot.)
	if len(res.Chunks) != 3 || len(res.ChunkGaps()) != 2 {
		t.Fatalf("chunks %+v", res.Chunks)
	}
	for i, ch := range res.Chunks {
		if since := ch.At.Sub(res.Timing.Start); since < time.Duration(i+1)*gap {
			t.Fatalf("chunk %d after %v, the server waited %v", i, since, time.Duration(i+1)*gap)
		}
	}
}

// The server's pauses are a minute (they end when the client leaves): only
// the client's timeout can end them sooner, however loaded the machine.
const stall = time.Minute

func TestStreamTimeouts(t *testing.T) {
	t.Run("idle between chunks", func(t *testing.T) {
		srv := scripted(t, []step{{raw: comp("a")}, {delay: stall, raw: comp("b")}, {raw: done}}, nil)
		c := newClient(t, srv.URL, func(o *Options) { o.IdleTimeout = 50 * time.Millisecond })
		t0 := time.Now()
		res, _ := run(t, c, basic)
		if KindOf(res.Err) != KindTimeout || res.CountedTokens != 1 || time.Since(t0) > stall/2 {
			t.Fatalf("err %v counted %d after %v", res.Err, res.CountedTokens, time.Since(t0))
		}
	})
	t.Run("first chunk", func(t *testing.T) {
		srv := scripted(t, []step{{delay: stall, raw: comp("a")}}, nil)
		c := newClient(t, srv.URL, func(o *Options) { o.FirstChunkTimeout = 50 * time.Millisecond })
		res, _ := run(t, c, basic)
		if KindOf(res.Err) != KindTimeout || !res.Timing.FirstContent.IsZero() || res.Timing.Headers.IsZero() {
			t.Fatalf("err %v timing %+v", res.Err, res.Timing)
		}
	})
	t.Run("headers", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		c := newClient(t, srv.URL, func(o *Options) { o.HeaderTimeout = 50 * time.Millisecond })
		res, _ := run(t, c, basic)
		if KindOf(res.Err) != KindTimeout || !res.Timing.Headers.IsZero() {
			t.Fatalf("err %v", res.Err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		srv := scripted(t, []step{{raw: comp("a")}, {delay: stall, raw: comp("b")}}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		res := newClient(t, srv.URL, nil).Stream(ctx, basic, func(ev Event) {
			if ev.Kind == EvContent {
				cancel()
			}
		})
		if KindOf(res.Err) != KindCanceled || res.CountedTokens != 1 {
			t.Fatalf("err %v", res.Err)
		}
	})
}

func TestStreamConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	res, _ := run(t, newClient(t, "http://"+addr, nil), basic)
	if KindOf(res.Err) != KindConnect || !res.Timing.Headers.IsZero() || res.Timing.End.IsZero() {
		t.Fatalf("err %v", res.Err)
	}
}

func TestStreamMalformed(t *testing.T) {
	srv := scripted(t, []step{{raw: comp("a")}, {raw: "data: {\"choices\": [nope\n\n"}}, nil)
	res, _ := run(t, newClient(t, srv.URL, nil), basic)
	if KindOf(res.Err) != KindMalformed || res.CountedTokens != 1 {
		t.Fatalf("err %v", res.Err)
	}
	json200 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"text":"abc"}]}`)
	}))
	defer json200.Close()
	if res, _ := run(t, newClient(t, json200.URL, nil), basic); KindOf(res.Err) != KindMalformed {
		t.Fatalf("a JSON answer to a stream: %v", res.Err)
	}
}

func TestStreamSizeLimits(t *testing.T) {
	long := scripted(t, []step{{raw: comp(strings.Repeat("x", 5000))}, {raw: done}}, nil)
	if res, _ := run(t, newClient(t, long.URL, func(o *Options) { o.MaxLineBytes = 1024 }), basic); KindOf(res.Err) != KindTooLarge {
		t.Fatalf("line: %v", res.Err)
	}
	var steps []step
	for range 100 {
		steps = append(steps, step{raw: comp("abcdefgh")})
	}
	big := scripted(t, append(steps, step{raw: done}), nil)
	res, _ := run(t, newClient(t, big.URL, func(o *Options) { o.MaxBodyBytes = 2000 }), basic)
	if KindOf(res.Err) != KindTooLarge || res.CountedTokens == 0 {
		t.Fatalf("body: %v", res.Err)
	}
}

func TestStreamBadRequests(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", func(o *Options) { o.API = Chat })
	for _, r := range []Request{{Prompt: "x", MaxTokens: 0}, {PromptTokens: []int32{1}, MaxTokens: 1}, {Prompt: "x", MaxTokens: 2, MinTokens: 3}} {
		if res := c.Stream(context.Background(), r, nil); KindOf(res.Err) != KindRequest {
			t.Errorf("%+v: %v", r, res.Err)
		}
	}
	for _, u := range []string{"", "localhost:8000", "ftp://x", "http://"} {
		if _, err := New(Options{BaseURL: u}); err == nil {
			t.Errorf("base URL %q accepted", u)
		}
	}
}

// The key is sent, and appears in no error, no printed client, no result.
func TestAPIKeyNeverPrinted(t *testing.T) {
	const key = "sk-do-not-print-7f3a"
	t.Setenv("BENCHTOP_TEST_KEY", key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A hostile server echoes the header back in its error.
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":"bad key"}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(o *Options) { o.APIKeyEnv = "BENCHTOP_TEST_KEY" })
	res, _ := run(t, c, basic)
	_, merr := c.Models(context.Background())
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", res), res.Err.Error(), merr.Error()} {
		if strings.Contains(s, key) {
			t.Fatalf("key printed: %s", s)
		}
	}
	if KindOf(res.Err) != KindHTTP4xx || res.Err.Status != 401 {
		t.Fatalf("err %v", res.Err)
	}
}

func TestResolveModel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{"object":"list","data":[{"id":"first","object":"model"},{"id":"second","object":"model"}]}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(o *Options) { o.Model = "" })
	if m, err := c.ResolveModel(context.Background()); err != nil || m != "first" || c.Model() != "first" {
		t.Fatalf("model %q, %v", m, err)
	}
	given := newClient(t, "http://127.0.0.1:1", func(o *Options) { o.Model = "mine" })
	if m, err := given.ResolveModel(context.Background()); err != nil || m != "mine" {
		t.Fatalf("given model %q, %v", m, err)
	}
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"object":"list","data":[]}`)
	}))
	defer empty.Close()
	if _, err := newClient(t, empty.URL, func(o *Options) { o.Model = "" }).ResolveModel(context.Background()); err == nil || !strings.Contains(err.Error(), ErrNoModels.Error()) {
		t.Fatalf("no models: %v", err)
	}
}

func TestPromptJSON(t *testing.T) {
	for in, want := range map[string]string{
		`"hello"`:      "text hello",
		`[1,2,3]`:      "tokens [1 2 3]",
		`["hello"]`:    "text hello",
		`[[4,5]]`:      "tokens [4 5]",
		`[]`:           "tokens []",
		`[7]`:          "tokens [7]",
		`["a","b"]`:    "error",
		`[[1],[2]]`:    "error",
		`[1.5]`:        "error",
		`{"a":1}`:      "error",
		`[4294967296]`: "error",
	} {
		var p Prompt
		got := "error"
		if err := json.Unmarshal([]byte(in), &p); err == nil {
			if p.IsTokens {
				got = fmt.Sprintf("tokens %v", p.Tokens)
			} else {
				got = "text " + p.Text
			}
		}
		if got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}
