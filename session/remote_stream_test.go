package session

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/metrics"
)

// scripted is a real HTTP server on loopback that answers each completion
// with a constructed event stream, chosen by the request's max_tokens: the
// streams the issue names (one token a chunk, several, empty chunks, a role
// chunk first, a usage-only last chunk, an error event mid-stream).
func scripted(t *testing.T, gap time.Duration) string {
	t.Helper()
	chunk := func(text string, ids []int32, usage string) string {
		c := map[string]any{"id": "x", "model": "m", "choices": []map[string]any{{"index": 0, "text": text, "token_ids": ids}}}
		b, _ := json.Marshal(c)
		s := string(b)
		if usage != "" {
			s = s[:len(s)-1] + `,"usage":` + usage + `}`
		}
		return "data: " + s + "\n\n"
	}
	scripts := map[int][]string{
		1: {chunk("a", nil, ""), chunk("", nil, `{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}`)}, // the probe
		11: {chunk("a", nil, ""), chunk("b", nil, ""), chunk("c", nil, ""),
			`data: {"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}` + "\n\n"},
		12: {chunk("abc", []int32{1, 2, 3}, ""), chunk("de", []int32{4, 5}, ""),
			`data: {"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}` + "\n\n"},
		13: {chunk("", nil, ""), chunk("a", nil, ""), chunk("", nil, ""), chunk("b", nil, "")},
		14: {`data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n",
			`data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"hi"}}]}` + "\n\n",
			`data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":" there"}}]}` + "\n\n"},
		15: {chunk("ab", nil, ""), chunk("cd", nil, ""),
			`data: {"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}` + "\n\n"},
		16: {chunk("a", nil, ""), "event: error\ndata: {\"error\":{\"message\":\"the engine died\"}}\n\n"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"m","object":"model"}]}`)
	})
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MaxTokens int `json:"max_tokens"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		script, ok := scripts[req.MaxTokens]
		if !ok {
			http.Error(w, `{"error":{"message":"no script"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i, ev := range script {
			if i > 0 {
				time.Sleep(gap)
			}
			fmt.Fprint(w, ev)
			fl.Flush()
		}
		if req.MaxTokens != 16 {
			fmt.Fprint(w, "data: [DONE]\n\n")
		}
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs.URL
}

// Each constructed stream reaches the collector as the engine's events
// would: TTFT at the first content, k ITL samples for a chunk of k tokens,
// the usage count on the last chunk, a failure counted by kind.
func TestRemoteStreamsReachTheCollector(t *testing.T) {
	const gap = 30 * time.Millisecond
	url := scripted(t, gap)
	s, err := Open(Options{Model: "tiny", Engine: engine.DefaultConfig(), Remote: RemoteOptions{URLs: []string{url}, MetricsPath: "off"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name              string
		maxTokens         int
		out, itl, chunks  int
		failed            bool
		firstChunkTokens  int64
		lastChunkTokensAt int64
	}{
		{"one token a chunk, usage last", 11, 3, 2, 3, false, 1, 1},
		{"several tokens a chunk", 12, 5, 2, 2, false, 3, 2},
		{"empty chunks", 13, 2, 1, 2, false, 1, 1},
		{"a role chunk first", 14, 2, 1, 2, false, 1, 1},
		{"usage larger than the chunks", 15, 5, 4, 2, false, 1, 4},
		{"an error event mid-stream", 16, 1, 0, 1, true, 1, 1},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.ResetStats(); err != nil {
				t.Fatal(err)
			}
			req := &engine.Request{ID: fmt.Sprint("s", i), Prompt: []int32{5, 6, 7}, Params: engine.SamplingParams{MaxTokens: c.maxTokens}}
			t0 := time.Now()
			res, err := s.Target().Generate(context.Background(), []*engine.Request{req})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // the live window holds closed buckets only
			if err := s.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			recs, _ := s.stats.RecordsSince(context.Background(), t0)
			m := s.stats.Latest()
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			r := recs[0]
			if r.OutputTokens != c.out || r.Failed() != c.failed || m.ITL.Count != c.itl || m.TokensPerChunk.Count != c.chunks {
				t.Fatalf("record %+v; ITL n=%d, chunks n=%d (result %+v)", r, m.ITL.Count, m.TokensPerChunk.Count, res[0])
			}
			if c.failed {
				if !strings.HasPrefix(res[0].Err, "stream_error") || s.Pool().Members()[0].Failed["stream_error"] != 1 {
					t.Fatalf("failure %q, counted %v", res[0].Err, s.Pool().Members()[0].Failed)
				}
				return
			}
			if r.TTFT <= 0 || r.TTFT > r.E2E {
				t.Fatalf("TTFT %s, E2E %s", r.TTFT, r.E2E)
			}
			if c.chunks > 1 && m.ChunkGap.Count != c.chunks-1 {
				t.Fatalf("chunk gaps n=%d", m.ChunkGap.Count)
			}
			if c.itl > 0 {
				// A chunk of k tokens after a gap g gives k samples of g/k:
				// the largest ITL is the largest chunk gap (the last chunk's,
				// whose k is the largest) over k, within the histograms'
				// precision. The gap is the one the client saw, whatever the
				// server's pause and the machine's load made it.
				k := time.Duration(c.lastChunkTokensAt)
				g, d := m.ChunkGap.Max, m.ITL.Max
				if g <= 0 || math.Abs(float64(d*k-g)) > 2*metrics.Precision*float64(g)+float64(k) {
					t.Fatalf("ITL max %s, chunk gap max %s: want the gap over %d", d, g, k)
				}
			}
			if m.TokensPerChunk.Max != max(c.firstChunkTokens, c.lastChunkTokensAt) {
				t.Fatalf("tokens per chunk %+v", m.TokensPerChunk)
			}
		})
	}
	if tg := s.Targets()[0]; tg.Model != "m" || tg.ContinuousUsage != true || tg.Gauges.MetricsURL != "" {
		t.Fatalf("target %+v", tg)
	}
}
