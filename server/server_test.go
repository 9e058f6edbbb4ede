package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"benchtop/openai"
)

func TestModelsAndHealth(t *testing.T) {
	r := newRig(t, Options{})
	resp, err := http.Get(r.http.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var list openai.ModelList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(list.Data) != 1 || list.Data[0].ID != "tiny" || list.Data[0].MaxModelLen != maxModelLen || list.Object != "list" {
		t.Fatalf("models %+v", list)
	}
	named := newRig(t, Options{ServedModelName: "my-model"})
	if c := named.client(t, openai.Completions, nil); c.Model() != "my-model" {
		t.Fatalf("served name %q", c.Model())
	}
	resp, err = http.Get(r.http.URL + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	r.stop()
	resp, err = http.Get(r.http.URL + "/health")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("health after stop %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if code, body := r.post(t, "/v1/completions", `{"prompt":[5,6],"max_tokens":2}`); code != http.StatusServiceUnavailable {
		t.Fatalf("completion after stop: %d %s", code, body)
	}
}

func TestCompletionWholeAndStreamAgree(t *testing.T) {
	r := newRig(t, Options{})
	code, body := r.post(t, "/v1/completions", `{"model":"tiny","prompt":[464, 2068, 7586],"max_tokens":9,"temperature":0,"ignore_eos":true,"return_token_ids":true}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var whole openai.CompletionResponse
	if err := json.Unmarshal(body, &whole); err != nil {
		t.Fatal(err)
	}
	ch := whole.Choices[0]
	if whole.Object != "text_completion" || whole.Model != "tiny" || len(ch.TokenIDs) != 9 || *ch.FinishReason != "length" ||
		whole.Usage == nil || whole.Usage.PromptTokens != 3 || whole.Usage.CompletionTokens != 9 {
		t.Fatalf("whole %s", body)
	}
	c := r.client(t, openai.Completions, func(o *openai.Options) { o.ReturnTokenIDs = true })
	res := c.Stream(context.Background(), openai.Request{PromptTokens: []int32{464, 2068, 7586}, MaxTokens: 9, IgnoreEOS: true}, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if fmt.Sprint(res.TokenIDs) != fmt.Sprint(ch.TokenIDs) || res.Text != ch.Text || res.OutputTokens != 9 ||
		res.CountedTokens != 9 || res.FinishReason != "length" || res.PromptTokens != 3 {
		t.Fatalf("stream %+v\nwhole %s", res, body)
	}
	if res.TTFT() <= 0 || res.Timing.Usage.IsZero() || len(res.Chunks) == 0 {
		t.Fatalf("timing %+v", res.Timing)
	}
	// A text prompt is tokenized with the model's tokenizer (BOS first).
	code, body = r.post(t, "/v1/completions", `{"prompt":"The quick brown fox","max_tokens":3,"ignore_eos":true}`)
	var txt openai.CompletionResponse
	if err := json.Unmarshal(body, &txt); code != 200 || err != nil {
		t.Fatalf("%d %s", code, body)
	}
	want, _ := r.eng.Model().Encode("The quick brown fox")
	if txt.Usage.PromptTokens != len(want) || txt.Usage.CompletionTokens != 3 {
		t.Fatalf("text prompt usage %+v, want %d prompt tokens", txt.Usage, len(want))
	}
}

func TestChat(t *testing.T) {
	r := newRig(t, Options{})
	msgs := `"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}]`
	code, body := r.post(t, "/v1/chat/completions", `{`+msgs+`,"max_tokens":5,"ignore_eos":true,"temperature":0}`)
	var whole openai.ChatResponse
	if err := json.Unmarshal(body, &whole); code != 200 || err != nil {
		t.Fatalf("%d %s", code, body)
	}
	if whole.Object != "chat.completion" || whole.Choices[0].Message == nil || whole.Choices[0].Message.Role != "assistant" ||
		whole.Usage.CompletionTokens != 5 {
		t.Fatalf("chat %s", body)
	}
	// Streamed: the role chunk first, then content, then usage.
	resp, err := http.Post(r.http.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{`+msgs+`,"max_tokens":5,"ignore_eos":true,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	sse := openai.NewSSEReader(resp.Body, 1<<16)
	var events []string
	var text string
	for {
		ev, err := sse.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) == "[DONE]" {
			events = append(events, "done")
			continue
		}
		var ch openai.ChatResponse
		if err := json.Unmarshal(ev.Data, &ch); err != nil {
			t.Fatalf("chunk %s: %v", ev.Data, err)
		}
		switch {
		case len(ch.Choices) == 0 && ch.Usage != nil:
			events = append(events, fmt.Sprintf("usage %d", ch.Usage.CompletionTokens))
		case ch.Choices[0].Delta.Role == "assistant":
			events = append(events, "role")
		default:
			text += *ch.Choices[0].Delta.Content
			if ch.Choices[0].FinishReason != nil {
				events = append(events, "finish "+*ch.Choices[0].FinishReason)
			}
		}
	}
	got := strings.Join(events, ",")
	if !strings.HasPrefix(got, "role,") || !strings.HasSuffix(got, "finish length,usage 5,done") {
		t.Fatalf("events %s", got)
	}
	if text != whole.Choices[0].Message.Content {
		t.Fatalf("streamed %q, whole %q", text, whole.Choices[0].Message.Content)
	}
	// The client times the role chunk apart from the first content.
	res := r.client(t, openai.Chat, nil).Stream(context.Background(), openai.Request{Prompt: "Hi", MaxTokens: 4, IgnoreEOS: true}, nil)
	if res.Err != nil || res.Timing.Role.IsZero() || res.Timing.FirstContent.Before(res.Timing.Role) || res.OutputTokens != 4 {
		t.Fatalf("client %+v", res)
	}
}

func TestBadRequests(t *testing.T) {
	r := newRig(t, Options{MaxBodyBytes: 4096})
	cases := []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"POST", "/v1/completions", `{"prompt":[1,2]`, 400, "invalid JSON"},
		{"POST", "/v1/completions", ``, 400, "invalid JSON"},
		{"POST", "/v1/completions", `{"prompt":{"a":1}}`, 400, "invalid JSON"},
		{"POST", "/v1/completions", `{"model":"gpt-4","prompt":[1]}`, 404, "does not exist"},
		{"POST", "/v1/completions", `{"prompt":[1],"max_tokens":0}`, 400, "at least 1"},
		{"POST", "/v1/completions", `{"prompt":[1],"max_tokens":-3}`, 400, "at least 1"},
		{"POST", "/v1/completions", `{"prompt":[1,2,3],"max_tokens":1022}`, 400, "maximum context length is 1024"},
		{"POST", "/v1/completions", `{"prompt":[1,2,3],"max_tokens":9999999999}`, 400, "maximum context length"},
		{"POST", "/v1/completions", `{"prompt":[1,2,3],"max_tokens":9223372036854775807}`, 400, "maximum context length"},
		{"POST", "/v1/completions", `{"prompt":[1,2,3],"max_tokens":9223372036854775808}`, 400, "invalid JSON"},
		{"POST", "/v1/completions", `{"prompt":[999999]}`, 400, "outside the vocabulary"},
		{"POST", "/v1/completions", `{"prompt":[-1]}`, 400, "outside the vocabulary"},
		{"POST", "/v1/completions", `{"prompt":[]}`, 400, "empty"},
		{"POST", "/v1/completions", `{"prompt":[[1],[2]]}`, 400, "one prompt per request"},
		{"POST", "/v1/completions", `{"prompt":[1],"n":2}`, 400, "n must be 1"},
		{"POST", "/v1/completions", `{"prompt":[1],"logprobs":5}`, 400, "logprobs"},
		{"POST", "/v1/completions", `{"prompt":[1],"echo":true}`, 400, "echo"},
		{"POST", "/v1/completions", `{"prompt":[1],"stop":["\n"]}`, 400, "stop strings"},
		{"POST", "/v1/completions", `{"prompt":[1],"max_tokens":8,"min_tokens":4}`, 400, "min_tokens"},
		{"POST", "/v1/completions", `{"prompt":[1],"max_tokens":8,"min_tokens":9}`, 400, "min_tokens"},
		{"POST", "/v1/completions", `{"prompt":[1],"temperature":-1}`, 400, "temperature"},
		{"POST", "/v1/completions", `{"prompt":[1],"top_p":3}`, 400, "top_p"},
		{"POST", "/v1/completions", `{"prompt":[1],"stop_token_ids":[60000]}`, 400, "outside the vocabulary"},
		{"POST", "/v1/completions", `{"prompt":[` + strings.Repeat("1,", 3000) + `1]}`, 413, "request body over 4096 bytes"},
		{"POST", "/v1/chat/completions", `{"messages":[]}`, 400, "messages"},
		{"POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, 400, "only text"},
		{"GET", "/v1/completions", ``, 405, "use POST"},
		{"POST", "/v1/models", ``, 405, "use GET"},
		{"GET", "/v1/nothing", ``, 404, "no route"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, r.http.URL+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body openai.ErrorBody
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		code, _ := json.Marshal(c.status)
		if resp.StatusCode != c.status || err != nil || !strings.Contains(body.Error.Message, c.msg) || !bytes.Equal(body.Error.Code, code) {
			t.Errorf("%s %s %.60s: got %d %+v (%v), want %d %q", c.method, c.path, c.body, resp.StatusCode, body.Error, err, c.status, c.msg)
		}
	}
	// None of them reached the engine.
	r.idle(t)
	// min_tokens = max_tokens holds the length; stop: null, "" and [] are none.
	for _, body := range []string{`{"prompt":[1],"max_tokens":4,"min_tokens":4}`, `{"prompt":[1],"max_tokens":4,"stop":null,"ignore_eos":true}`,
		`{"prompt":[1],"max_tokens":4,"stop":[],"ignore_eos":true,"logprobs":null,"n":1,"top_k":-1,"seed":0}`} {
		code, b := r.post(t, "/v1/completions", body)
		var res openai.CompletionResponse
		if err := json.Unmarshal(b, &res); code != 200 || err != nil || res.Usage.CompletionTokens != 4 {
			t.Errorf("%s: %d %s", body, code, b)
		}
	}
}

// A request too large for the KV pool is rejected by the engine at
// submission: still a 400, streamed or not.
func TestRejectedByTheEngine(t *testing.T) {
	r := newRig(t, Options{})
	// Shrink the KV pool to about 8 blocks of 16 tokens.
	st := r.eng.Status()
	p := st.Plan
	c := st.Config
	c.GPUMemoryUtilization = float64(p.WeightBytes+p.ActivationBytes+8*p.BytesPerBlock+p.BytesPerBlock/2) / float64(p.TotalBytes)
	if err := r.eng.Reconfigure(context.Background(), c, "small pool"); err != nil {
		t.Fatal(err)
	}
	if n := r.eng.Status().Plan.NumBlocks; n < 4 || n > 12 {
		t.Fatalf("the pool has %d blocks", n)
	}
	for _, stream := range []string{"false", "true"} {
		code, body := r.post(t, "/v1/completions", `{"prompt":[5,6,7],"max_tokens":240,"ignore_eos":true,"stream":`+stream+`}`)
		if code != 400 || !strings.Contains(string(body), "KV blocks") {
			t.Fatalf("stream %s: %d %s", stream, code, body)
		}
	}
	// What fits still runs.
	if code, body := r.post(t, "/v1/completions", `{"prompt":[5,6,7],"max_tokens":20,"ignore_eos":true}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
}

func TestClientDisconnectFreesItsSequence(t *testing.T) {
	r := newRig(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", r.http.URL+"/v1/completions",
		strings.NewReader(`{"prompt":[5,6,7],"max_tokens":1000,"ignore_eos":true,"stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sse := openai.NewSSEReader(resp.Body, 1<<16)
	if _, err := sse.Next(); err != nil {
		t.Fatal(err)
	}
	// Paused, the request stays mid-generation until the client has left.
	if err := r.eng.SetPaused(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	var used int
	if err := r.eng.Exec(context.Background(), func() { used = r.eng.Blocks().NumUsed() }); err != nil || used == 0 {
		t.Fatalf("the request holds no blocks mid-stream (%d, %v)", used, err)
	}
	cancel()
	resp.Body.Close()
	r.idle(t) // the abort is applied while paused
	if err := r.eng.SetPaused(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	// The abort is counted as vLLM counts it.
	var b string
	eventually(t, func() bool {
		b = r.scrape(t)
		return strings.Contains(b, `vllm:request_success_total{engine="0",finished_reason="abort",model_name="tiny"} 1`) &&
			strings.Contains(b, `vllm:num_requests_running{engine="0",model_name="tiny"} 0`) &&
			strings.Contains(b, `vllm:kv_cache_usage_perc{engine="0",model_name="tiny"} 0`)
	}, func() { t.Fatalf("metrics after the disconnect:\n%s", b) })
}

func (r *rig) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(r.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A client of a whole (non-streamed) answer that leaves while its request
// waits has it aborted too.
func TestClientDisconnectWhole(t *testing.T) {
	r := newRig(t, Options{})
	if err := r.eng.SetPaused(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	// The client leaves once its request waits in the engine (not after a
	// time, which a loaded machine may spend before the request gets there).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		eventually(t, func() bool {
			var work bool
			err := r.eng.Exec(context.Background(), func() { work = r.eng.HasWork() })
			return err != nil || work
		}, func() { t.Error("the request never reached the engine") })
	}()
	req, _ := http.NewRequestWithContext(ctx, "POST", r.http.URL+"/v1/completions", strings.NewReader(`{"prompt":[5,6,7],"max_tokens":50}`))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a paused engine answered")
	}
	eventually(t, func() bool { return strings.Contains(r.scrape(t), `finished_reason="abort",model_name="tiny"} 1`) },
		func() { t.Fatalf("not aborted:\n%s", r.scrape(t)) })
	if err := r.eng.SetPaused(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	r.idle(t)
}
