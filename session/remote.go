package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"benchtop/engine"
	"benchtop/kernels"
	"benchtop/openai"
	"benchtop/report"
)

// remote is one OpenAI-compatible server as a Target: each request is one
// streamed HTTP request, timed per chunk at the client, whose moments reach
// the collector as the engine's do (tagged with the server's source index).
//
// What the client measures: the request's start is its arrival; the
// response headers stand for "scheduled" (the server took it; its own
// queueing is in its gauges); the first chunk that carries output is the
// first token (not a chat role chunk); every later content chunk is an
// EvToken whose OutputTokens grows by the tokens it carries (the collector
// splits its gap evenly over them and keeps the raw gap and the count). A
// chunk's event is handed on when the next one (or the end) arrives, so
// the last one can carry the server's usage count when it is larger than
// what the chunks showed; every event keeps its own arrival time.
type remote struct {
	index  int
	url    string
	client *openai.Client
	opts   RemoteOptions
	obs    engine.Observer
	vocab  Vocab
	ctx    context.Context // the session's life: streams end with it
	reqs   *sync.WaitGroup // requests in flight (the session waits on Close)
	status *engine.Status  // what Status returns (immutable)

	mu       sync.Mutex
	info     report.Target // URL, model, listed, answered, ...
	answered string
	gauges   gaugeKeeper
}

// openRemotes builds a client per server, resolves each one's model
// (--model-name, or the first /v1/models lists), asks whether it takes
// per-chunk usage, starts its scraper, and puts them behind a pool. A
// server that does not answer at start is down from the start; none
// answering is an error.
func (s *Session) openRemotes() error {
	o := s.opts
	v, err := OpenVocab(o.Model)
	if err != nil {
		return fmt.Errorf("the tokenizer prompts are built with (--model): %w", err)
	}
	s.vocab = v
	if (o.Remote.API == openai.Chat || o.Remote.PromptText) && v.Decode == nil {
		return fmt.Errorf("the %s API sends text, and --model %s has no tokenizer to write it", o.Remote.API, o.Model)
	}
	n := len(o.Remote.URLs)
	s.remotes = make([]*remote, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, u := range o.Remote.URLs {
		c, err := openai.New(openai.Options{BaseURL: u, API: o.Remote.API, Model: o.Remote.ModelName, APIKeyEnv: o.Remote.APIKeyEnv,
			HeaderTimeout: o.Remote.HeaderTimeout, FirstChunkTimeout: o.Remote.FirstChunkTimeout, IdleTimeout: o.Remote.IdleTimeout})
		if err != nil {
			return err
		}
		rt := &remote{index: i, url: c.BaseURL(), client: c, opts: o.Remote, obs: s.stats.observer(i), vocab: v, ctx: s.ctx, reqs: &s.reqs}
		rt.info = report.Target{URL: rt.url, API: o.Remote.API.String(), Model: o.Remote.ModelName, Listed: []string{}}
		s.remotes[i] = rt
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = rt.resolve(s.ctx) }()
	}
	wg.Wait()
	model := ""
	for _, rt := range s.remotes {
		if m := rt.target().Model; m != "" && model == "" {
			model = m
		}
	}
	if model == "" {
		return fmt.Errorf("no target answered: %w", errors.Join(errs...))
	}
	members := make([]Member, n)
	for i, rt := range s.remotes {
		rt.status = &engine.Status{Model: rt.target().Model, Device: rt.device(), State: engine.StateRunning}
		if rt.status.Model == "" {
			rt.status.Model = model
		}
		members[i] = Member{Name: rt.url, Kind: "server", Target: rt}
		if err := rt.startScraper(s); err != nil {
			return err
		}
	}
	if s.pool, err = NewPool(s.ctx, members, o.Policy, o.Remote.RetryEvery); err != nil {
		return err
	}
	s.target = s.pool
	for i, rt := range s.remotes {
		t := rt.target()
		if errs[i] != nil {
			// Its requests, once it answers, name the fleet's model.
			c, err := openai.New(openai.Options{BaseURL: rt.url, API: o.Remote.API, Model: model, APIKeyEnv: o.Remote.APIKeyEnv,
				HeaderTimeout: o.Remote.HeaderTimeout, FirstChunkTimeout: o.Remote.FirstChunkTimeout, IdleTimeout: o.Remote.IdleTimeout})
			if err != nil {
				return err
			}
			rt.client.Close()
			rt.client = c
			rt.mu.Lock()
			rt.info.Model = model
			rt.mu.Unlock()
			s.pool.markDown(s.pool.members[i], openai.KindOf(errs[i]).String(), errs[i].Error())
			o.logf("benchtop: target %s is down at start: %v", rt.url, errs[i])
			continue
		}
		usage := "one token a chunk unless the chunk says more"
		if t.ContinuousUsage {
			usage = "usage on every chunk"
		}
		o.logf("benchtop: target %s: model %s (%s API; %s)", rt.url, t.Model, t.API, usage)
	}
	return nil
}

// resolve asks the server for its models and its model's name, and whether
// it takes stream_options.continuous_usage_stats (one request of one
// token; a 4xx means no, and requests then go without).
func (rt *remote) resolve(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cards, err := rt.client.Models(ctx)
	if err != nil {
		return fmt.Errorf("target %s: GET /v1/models: %w", rt.url, err)
	}
	model, err := rt.client.ResolveModel(ctx)
	if err != nil {
		return err
	}
	rt.mu.Lock()
	rt.info.Model = model
	for _, c := range cards {
		rt.info.Listed = append(rt.info.Listed, c.ID)
		if c.ID == model {
			rt.info.MaxModelLen = c.MaxModelLen
		}
	}
	rt.mu.Unlock()
	probe := openai.Request{PromptTokens: rt.vocab.Prefix, MaxTokens: 1, IgnoreEOS: true}
	if rt.sendsText() || len(probe.PromptTokens) == 0 {
		probe = openai.Request{Prompt: "Hello", MaxTokens: 1, IgnoreEOS: true}
	}
	c2, err := openai.New(openai.Options{BaseURL: rt.url, API: rt.client.API(), Model: model, APIKeyEnv: rt.opts.APIKeyEnv, ContinuousUsage: true})
	if err != nil {
		return err
	}
	defer c2.Close()
	res := c2.Stream(ctx, probe, nil)
	switch k := res.Kind(); k {
	case openai.KindNone:
		rt.mu.Lock()
		rt.info.ContinuousUsage = true
		rt.info.Answered = res.Model
		rt.mu.Unlock()
		c, err := openai.New(openai.Options{BaseURL: rt.url, API: rt.client.API(), Model: model, APIKeyEnv: rt.opts.APIKeyEnv,
			ContinuousUsage: true, HeaderTimeout: rt.opts.HeaderTimeout, FirstChunkTimeout: rt.opts.FirstChunkTimeout, IdleTimeout: rt.opts.IdleTimeout})
		if err != nil {
			return err
		}
		rt.client.Close()
		rt.client = c
	case openai.KindHTTP4xx:
		// The server refuses the option: requests go without it.
	default:
		return fmt.Errorf("target %s: a one-token request: %w", rt.url, res.Err)
	}
	return nil
}

func (rt *remote) sendsText() bool { return rt.client.API() == openai.Chat || rt.opts.PromptText }

func (rt *remote) device() kernels.DeviceInfo {
	return kernels.DeviceInfo{Backend: "remote", Name: rt.url}
}

// target is the server as found (a copy).
func (rt *remote) target() report.Target {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	t := rt.info
	t.Listed = append([]string{}, t.Listed...)
	if rt.answered != "" {
		t.Answered = rt.answered
	}
	t.Gauges = rt.gauges.view()
	return t
}

// Status is the server as a status: its model, "remote" and its address;
// a server's settings are not known.
func (rt *remote) Status() *engine.Status { return rt.status }

// Check says whether the server answers (GET /v1/models).
func (rt *remote) Check(ctx context.Context) error {
	_, err := rt.client.Models(ctx)
	return err
}

// FailureKind is a failed result's kind (openai's: http_5xx, dropped, ...)
// and whether it may mean that nothing answers there.
func (rt *remote) FailureKind(r engine.Result) (kind string, maybeDown bool) {
	k := kindOfErr(r.Err)
	switch k {
	case openai.KindConnect, openai.KindDropped, openai.KindTimeout, openai.KindHTTP5xx:
		maybeDown = true
	}
	if k == openai.KindNone {
		return r.Finish.String(), false
	}
	return k.String(), maybeDown
}

// kindOfErr reads the kind an openai error's text starts with.
func kindOfErr(s string) openai.ErrorKind {
	for _, k := range openai.Kinds() {
		name := k.String()
		if strings.HasPrefix(s, name) && (len(s) == len(name) || s[len(name)] == ' ' || s[len(name)] == ':') {
			return k
		}
	}
	return openai.KindNone
}

// Generate streams each request on its own goroutine and waits for all of
// them. When ctx ends it returns at once; the streams go on until they
// finish or the session closes, and their events still reach the collector.
func (rt *remote) Generate(ctx context.Context, reqs []*engine.Request) ([]engine.Result, error) {
	out := make([]engine.Result, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		rt.reqs.Add(1)
		go func() {
			defer rt.reqs.Done()
			defer wg.Done()
			out[i] = rt.one(r)
		}()
	}
	if err := waitAll(ctx, &wg); err != nil {
		return nil, err
	}
	return out, nil
}

// one sends one request and reports its moments to the collector.
func (rt *remote) one(r *engine.Request) engine.Result {
	f := forwarder{rt: rt, id: r.ID, prompt: len(r.Prompt), arrival: time.Now()}
	rt.obs.OnRequest(&engine.RequestEvent{Kind: engine.EvArrived, ID: r.ID, Time: f.arrival, Arrival: f.arrival, PromptTokens: f.prompt})
	p := r.Params
	req := openai.Request{MaxTokens: p.MaxTokens, IgnoreEOS: p.IgnoreEOS, Temperature: float64(p.Temperature)}
	if p.IgnoreEOS {
		req.MinTokens = p.MaxTokens // servers without ignore_eos hold the length with min_tokens
	}
	if p.Seed != 0 {
		seed := int64(p.Seed & (1<<63 - 1))
		req.Seed = &seed
	}
	if rt.sendsText() {
		ids := r.Prompt
		if pre := rt.vocab.Prefix; len(pre) > 0 && len(ids) >= len(pre) && equalIDs(ids[:len(pre)], pre) {
			ids = ids[len(pre):] // the server adds its own BOS to text
		}
		req.Prompt = rt.vocab.Decode(ids)
	} else {
		req.PromptTokens = r.Prompt
	}
	res := rt.client.Stream(rt.ctx, req, f.on)
	if res.Model != "" {
		rt.mu.Lock()
		rt.answered = res.Model
		rt.mu.Unlock()
	}
	return f.end(&res, r)
}

func equalIDs(a, b []int32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// forwarder turns one stream's events into the collector's, one content
// chunk behind (see remote).
type forwarder struct {
	rt      *remote
	id      string
	prompt  int
	arrival time.Time
	pending engine.RequestEvent
	has     bool
	started bool
}

func (f *forwarder) emit(ev engine.RequestEvent) { f.rt.obs.OnRequest(&ev) }

func (f *forwarder) flush() {
	if f.has {
		f.emit(f.pending)
		f.has = false
	}
}

func (f *forwarder) on(ev openai.Event) {
	switch ev.Kind {
	case openai.EvHeaders:
		f.emit(engine.RequestEvent{Kind: engine.EvScheduled, ID: f.id, Time: ev.At, Arrival: f.arrival, PromptTokens: f.prompt})
	case openai.EvContent:
		f.flush()
		kind := engine.EvToken
		if !f.started {
			kind, f.started = engine.EvFirstToken, true
		}
		f.pending = engine.RequestEvent{Kind: kind, ID: f.id, Time: ev.At, Arrival: f.arrival, PromptTokens: f.prompt, OutputTokens: ev.OutputTokens}
		f.has = true
	}
}

// end hands on the last chunk (with the usage count when larger) and the
// finish, and returns the engine's kind of result: Output holds the token
// ids when the server sent them.
func (f *forwarder) end(res *openai.Result, r *engine.Request) engine.Result {
	out := res.OutputTokens
	if f.has && out > f.pending.OutputTokens {
		f.pending.OutputTokens = out
	}
	out = max(out, f.pending.OutputTokens)
	f.flush()
	at := res.Timing.LastContent
	if at.IsZero() || res.Err != nil {
		at = res.Timing.End
	}
	result := engine.Result{ID: r.ID, Prompt: r.Prompt, Output: res.TokenIDs, MaxTokens: r.Params.MaxTokens, Arrival: f.arrival,
		FirstToken: res.Timing.FirstContent, FinishedAt: at}
	switch {
	case res.Err != nil:
		result.Finish, result.Err = engine.FinishAborted, res.Err.Error()
		if k := res.Kind(); k == openai.KindHTTP4xx || k == openai.KindHTTP429 || k == openai.KindRequest {
			result.Finish = engine.FinishRejected
		}
	case res.FinishReason == "length" || (res.FinishReason == "" && out >= r.Params.MaxTokens):
		result.Finish = engine.FinishLength
	default:
		result.Finish = engine.FinishStop
	}
	prompt := res.PromptTokens
	if prompt == 0 {
		prompt = f.prompt
	}
	f.emit(engine.RequestEvent{Kind: engine.EvFinished, ID: r.ID, Time: at, Arrival: f.arrival, PromptTokens: prompt, OutputTokens: out,
		Finish: result.Finish, MaxTokens: r.Params.MaxTokens, Err: result.Err})
	return result
}

// describeRemote is "MODEL at URL (completions API)", or "MODEL at N
// servers (...)" for a fleet.
func (s *Session) describeRemote() string {
	st := s.Status()
	if len(s.remotes) == 1 {
		return fmt.Sprintf("%s at %s, %s API", st.Model, s.remotes[0].url, s.opts.Remote.API)
	}
	return fmt.Sprintf("%s at %d servers, %s API, %s", st.Model, len(s.remotes), s.opts.Remote.API, s.opts.Policy)
}

// Targets describes the remote targets as found, with their gauges; nil
// for in-process engines.
func (s *Session) Targets() []report.Target {
	if len(s.remotes) == 0 {
		return nil
	}
	out := make([]report.Target, len(s.remotes))
	for i, rt := range s.remotes {
		out[i] = rt.target()
	}
	return out
}
