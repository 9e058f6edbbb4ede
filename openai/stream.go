package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"
)

// Request is one generation request. The output length is held with
// MaxTokens plus IgnoreEOS and MinTokens (vLLM's extra parameters, sent only
// when set; servers that do not know them ignore them).
type Request struct {
	// Prompt is the text prompt (either API).
	Prompt string
	// PromptTokens, when set, is sent as the prompt instead of Prompt: a
	// list of token ids (the completions API only).
	PromptTokens []int32
	MaxTokens    int // at least 1
	MinTokens    int // 0: not sent
	IgnoreEOS    bool
	Temperature  float64 // sent always: 0 is greedy
	Seed         *int64  // nil: not sent
}

// EventKind names a moment of a stream.
type EventKind int

const (
	EvHeaders EventKind = iota // the response headers arrived (HTTP 200)
	EvRole                     // a chat chunk carrying only the assistant's role
	EvContent                  // a chunk carrying output (TTFT is the first)
	EvUsage                    // the usage chunk (the server's token counts)
)

func (k EventKind) String() string {
	return [...]string{"headers", "role", "content", "usage"}[k]
}

// Event is one moment of a stream, handed to the caller's callback as it
// happens (stamped on the monotonic clock).
type Event struct {
	Kind EventKind
	At   time.Time
	// Tokens is the number of output tokens the chunk carries (EvContent,
	// ≥ 1): the chunk's token_ids when the server sends them, the growth
	// of the server's running usage when it sends that (vLLM's
	// continuous_usage_stats), else one per choice with text.
	Tokens int
	// OutputTokens is the running count after this chunk (EvContent), or
	// the server's completion_tokens (EvUsage).
	OutputTokens int
}

// Chunk is one content chunk's arrival and the tokens it carried.
type Chunk struct {
	At     time.Time
	Tokens int
}

// Timing stamps a request on the monotonic clock. A zero time: it did not
// happen.
type Timing struct {
	Start        time.Time // the request began, before connecting: the client-side arrival
	Sent         time.Time // the request was written to the connection
	Headers      time.Time // the response headers arrived
	Role         time.Time // the first chat chunk carrying the role (not content)
	FirstContent time.Time // the first chunk carrying output: TTFT's end
	LastContent  time.Time // the last chunk carrying output
	Usage        time.Time // the usage chunk
	End          time.Time // [DONE], or the failure
}

// Result is a finished request: success or failure, with every time
// measured up to the end (a failed request keeps its partial timing).
type Result struct {
	ID            string // the server's response id
	Model         string // the model the server says answered
	Timing        Timing
	Chunks        []Chunk // every content chunk
	CountedTokens int     // Σ Chunks[].Tokens
	Usage         *Usage  // the server's usage, when it sent one
	// OutputTokens is Usage.CompletionTokens when the server sent usage,
	// else CountedTokens.
	OutputTokens int
	// PromptTokens is Usage.PromptTokens, else len(Request.PromptTokens).
	PromptTokens int
	FinishReason string
	Text         string
	TokenIDs     []int32 // when the server sent token_ids
	Err          *Error  // nil: the request succeeded
}

// Kind is how the request failed; KindNone when it succeeded.
func (r *Result) Kind() ErrorKind { return r.Err.KindOrNone() }

// TTFT is the time from the start to the first content chunk (0 if none).
func (r *Result) TTFT() time.Duration { return since(r.Timing.Start, r.Timing.FirstContent) }

// E2E is the time from the start to the last content chunk (0 if none).
func (r *Result) E2E() time.Duration { return since(r.Timing.Start, r.Timing.LastContent) }

// ChunkGaps are the gaps between consecutive content chunks.
func (r *Result) ChunkGaps() []time.Duration {
	if len(r.Chunks) < 2 {
		return nil
	}
	out := make([]time.Duration, len(r.Chunks)-1)
	for i := 1; i < len(r.Chunks); i++ {
		out[i-1] = r.Chunks[i].At.Sub(r.Chunks[i-1].At)
	}
	return out
}

func since(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

// errBodyTooLarge is the read error of a response over MaxBodyBytes.
var errBodyTooLarge = errors.New("response body over its size limit")

// limitReader fails with errBodyTooLarge past n bytes.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// watchdog is one timer for each wait of a request in turn (headers, first
// chunk, each gap); when it fires it cancels the request with the cause of
// the wait it was armed for, so the failure is classified as a timeout.
type watchdog struct {
	timer *time.Timer
	mu    sync.Mutex
	why   error
}

func (w *watchdog) arm(why error, d time.Duration) {
	w.mu.Lock()
	w.why = why
	w.mu.Unlock()
	w.timer.Reset(d)
}

func (w *watchdog) cause() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.why == nil {
		return errHeaderTimeout
	}
	return w.why
}

// body builds the JSON request body.
func (c *Client) body(r Request) ([]byte, error) {
	if r.MaxTokens < 1 {
		return nil, fmt.Errorf("max_tokens %d: must be at least 1", r.MaxTokens)
	}
	if r.MinTokens < 0 || r.MinTokens > r.MaxTokens {
		return nil, fmt.Errorf("min_tokens %d: must be between 0 and max_tokens (%d)", r.MinTokens, r.MaxTokens)
	}
	temp, maxTok := r.Temperature, r.MaxTokens
	s := Sampling{
		Model: c.Model(), MaxTokens: &maxTok, Temperature: &temp, Seed: r.Seed, Stream: true,
		StreamOptions: &StreamOptions{IncludeUsage: true, ContinuousUsage: c.opts.ContinuousUsage},
		IgnoreEOS:     r.IgnoreEOS, MinTokens: r.MinTokens, ReturnTokenIDs: c.opts.ReturnTokenIDs,
	}
	if c.opts.API == Chat {
		if r.PromptTokens != nil {
			return nil, errors.New("a token-id prompt needs the completions API; the chat API takes text")
		}
		return json.Marshal(ChatRequest{Messages: []ChatMessage{{Role: "user", Content: ChatContent(r.Prompt)}}, Sampling: s})
	}
	p := Prompt{Text: r.Prompt}
	if r.PromptTokens != nil {
		p = Prompt{Tokens: r.PromptTokens, IsTokens: true}
	}
	return json.Marshal(CompletionRequest{Prompt: p, Sampling: s})
}

// wireChunk is what the client reads from a chunk of either API.
type wireChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Text  *string `json:"text"`
		Delta *struct {
			Role             string  `json:"role"`
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
		} `json:"delta"`
		TokenIDs     []int32 `json:"token_ids"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
}

// Stream sends r with stream: true and stream_options.include_usage, reads
// the server-sent events to the end, and returns the result; it never
// panics and never waits past its timeouts or ctx. on, when not nil, is
// called on the calling goroutine at each event as it happens: it must be
// quick, since the next chunk is not read (nor timed) until it returns.
func (c *Client) Stream(ctx context.Context, r Request, on func(Event)) (res Result) {
	if on == nil {
		on = func(Event) {}
	}
	res.Timing.Start = c.nowFunc()
	res.PromptTokens = len(r.PromptTokens)
	defer func() {
		res.Timing.End = c.nowFunc()
		res.OutputTokens = res.CountedTokens
		if res.Usage != nil {
			res.OutputTokens = res.Usage.CompletionTokens
			res.PromptTokens = res.Usage.PromptTokens
		}
	}()
	body, err := c.body(r)
	if err != nil {
		res.Err = &Error{Kind: KindRequest, Err: err}
		return res
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The transport stamps the write on its own goroutine, possibly after
	// the response began; the stamp is copied into res at the end.
	var sent struct {
		sync.Mutex
		t time.Time
	}
	defer func() {
		sent.Lock()
		res.Timing.Sent = sent.t
		sent.Unlock()
	}()
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		t := c.nowFunc()
		sent.Lock()
		sent.t = t
		sent.Unlock()
	}}
	req, err := c.newRequest(httptrace.WithClientTrace(ctx, trace), http.MethodPost, c.opts.API.path(), body)
	if err != nil {
		res.Err = &Error{Kind: KindRequest, Err: err}
		return res
	}
	req.Header.Set("Accept", "text/event-stream")
	// One timer bounds each wait in turn: the headers, the first chunk,
	// then every gap (read restarts it).
	w := &watchdog{}
	w.timer = time.AfterFunc(c.opts.HeaderTimeout, func() { cancel(w.cause()) })
	defer w.timer.Stop()
	resp, err := c.http.Do(req)
	if err != nil {
		res.Err = classify(ctx, err, false)
		return res
	}
	defer resp.Body.Close()
	res.Timing.Headers = c.nowFunc()
	rd := &limitReader{r: resp.Body, n: c.opts.MaxBodyBytes}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(&limitReader{r: resp.Body, n: 64 << 10})
		res.Err = statusError(resp.StatusCode, b)
		return res
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		b, _ := io.ReadAll(&limitReader{r: resp.Body, n: 4 << 10})
		res.Err = &Error{Kind: KindMalformed, Status: resp.StatusCode,
			Message: fmt.Sprintf("want Content-Type text/event-stream, got %q: %s", mt, errorMessage(b))}
		return res
	}
	w.arm(errFirstChunkTimeout, c.opts.FirstChunkTimeout) // (one that fired has cancelled ctx: reads fail)
	on(Event{Kind: EvHeaders, At: res.Timing.Headers})
	c.read(ctx, NewSSEReader(rd, c.opts.MaxLineBytes), w, &res, on)
	return res
}

// read consumes the event stream into res.
func (c *Client) read(ctx context.Context, sse *SSEReader, w *watchdog, res *Result, on func(Event)) {
	var text strings.Builder
	defer func() { res.Text = text.String() }()
	for {
		ev, err := sse.Next()
		now := c.nowFunc()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				if res.FinishReason == "" {
					res.Err = &Error{Kind: KindDropped, Message: "the stream ended before [DONE]"}
				}
			case errors.Is(err, ErrLineTooLong), errors.Is(err, errBodyTooLarge):
				res.Err = &Error{Kind: KindTooLarge, Err: err}
			default:
				res.Err = classify(ctx, err, true)
			}
			return
		}
		data := bytes.TrimSpace(ev.Data)
		if ev.Name == "error" {
			res.Err = &Error{Kind: KindStreamError, Message: errorMessage(data)}
			return
		}
		if string(data) == "[DONE]" {
			// Read the body's end, so the connection goes back to the pool
			// (the next request does not pay a connect in its TTFT); a
			// server that keeps talking is cut after a few events.
			w.arm(errIdleTimeout, min(c.opts.IdleTimeout, 2*time.Second))
			for range 8 {
				if _, err := sse.Next(); err != nil {
					break
				}
			}
			return
		}
		if msg, ok := streamErrorOf(data); ok {
			res.Err = &Error{Kind: KindStreamError, Message: msg}
			return
		}
		var ch wireChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			res.Err = &Error{Kind: KindMalformed, Message: fmt.Sprintf("chunk %s", truncate(fmt.Sprintf("%q", bytesTrim(data, 200)), 240)), Err: err}
			return
		}
		c.apply(&ch, now, res, &text, on)
		if res.Timing.FirstContent.IsZero() {
			w.arm(errFirstChunkTimeout, c.opts.FirstChunkTimeout)
		} else {
			w.arm(errIdleTimeout, c.opts.IdleTimeout)
		}
	}
}

// apply accounts one decoded chunk.
func (c *Client) apply(ch *wireChunk, now time.Time, res *Result, text *strings.Builder, on func(Event)) {
	if res.ID == "" {
		res.ID, res.Model = ch.ID, ch.Model
	}
	counted, hasText, role := 0, false, false
	for _, choice := range ch.Choices {
		s := ""
		if choice.Text != nil {
			s = *choice.Text
		}
		if d := choice.Delta; d != nil {
			if d.Content != nil {
				s += *d.Content
			}
			if d.ReasoningContent != nil {
				s += *d.ReasoningContent
			}
			role = role || d.Role != ""
		}
		text.WriteString(s)
		hasText = hasText || s != ""
		switch {
		case choice.TokenIDs != nil:
			counted += len(choice.TokenIDs)
			res.TokenIDs = append(res.TokenIDs, choice.TokenIDs...)
		case s != "":
			counted++ // vLLM sends one chunk per engine step: one token
		}
		if choice.FinishReason != nil && *choice.FinishReason != "" {
			res.FinishReason = *choice.FinishReason
		}
	}
	if ch.Usage != nil {
		u := *ch.Usage
		res.Usage = &u
		if len(ch.Choices) == 0 {
			res.Timing.Usage = now
			on(Event{Kind: EvUsage, At: now, OutputTokens: u.CompletionTokens})
			return
		}
		// Usage on a chunk with choices is the server's running count.
		counted = max(0, u.CompletionTokens-res.CountedTokens)
	}
	if counted == 0 && !hasText {
		if role && res.Timing.Role.IsZero() {
			res.Timing.Role = now
			on(Event{Kind: EvRole, At: now})
		}
		return
	}
	if res.Timing.FirstContent.IsZero() {
		res.Timing.FirstContent = now
	}
	if counted == 0 {
		return // text the server says holds no new token
	}
	res.Timing.LastContent = now
	res.CountedTokens += counted
	res.Chunks = append(res.Chunks, Chunk{At: now, Tokens: counted})
	on(Event{Kind: EvContent, At: now, Tokens: counted, OutputTokens: res.CountedTokens})
}
