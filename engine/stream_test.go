package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// runLoop starts Run on its own goroutine and stops it at cleanup.
func runLoop(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// drain reads a stream to its end.
func drain(t *testing.T, s *TokenStream) ([]int32, StreamUpdate) {
	t.Helper()
	var toks []int32
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-s.Ready():
		case <-deadline:
			t.Fatal("stream never ended")
		}
		u := s.Take()
		toks = append(toks, u.Tokens...)
		if u.Done {
			return toks, u
		}
	}
}

func TestTokenStreamsCarryEveryToken(t *testing.T) {
	reqs := randomRequests(3, 12, 20, 15)
	want := run(t, newTestEngine(t, DefaultConfig(), 1<<30), clone(reqs))
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	runLoop(t, e)
	streamed := clone(reqs)
	for _, r := range streamed {
		r.Stream = NewTokenStream()
	}
	var mu sync.Mutex
	got := map[string][]int32{}
	var wg sync.WaitGroup
	for _, r := range streamed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks, end := drain(t, r.Stream)
			if end.Finish != FinishLength || end.Err != "" {
				t.Errorf("%s: finish %s %q", r.ID, end.Finish, end.Err)
			}
			mu.Lock()
			got[r.ID] = toks
			mu.Unlock()
		}()
	}
	res, err := e.Generate(context.Background(), streamed)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	sameOutputs(t, "streams", want, got)
	sameOutputs(t, "results", want, outputs(t, res))
}

// Nobody reads the streams while the engine runs: it finishes anyway, and
// a late Take gets everything at once.
func TestTokenStreamNeverBlocksTheEngine(t *testing.T) {
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	runLoop(t, e)
	reqs := randomRequests(4, 3, 10, 40)
	for _, r := range reqs {
		r.Stream = NewTokenStream()
	}
	res, err := e.Generate(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		u := r.Stream.Take()
		if !u.Done || fmt.Sprint(u.Tokens) != fmt.Sprint(res[i].Output) {
			t.Fatalf("%s: late take %+v, result %v", r.ID, u, res[i].Output)
		}
		if again := r.Stream.Take(); !again.Done || len(again.Tokens) != 0 {
			t.Fatalf("a second take %+v", again)
		}
	}
}

func TestTokenStreamRejected(t *testing.T) {
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	runLoop(t, e)
	r := &Request{ID: "long", Prompt: make([]int32, 300), Params: SamplingParams{MaxTokens: 4}, Stream: NewTokenStream()}
	if err := e.Submit(context.Background(), []*Request{r}); err != nil {
		t.Fatal(err)
	}
	// Rejection happens inside Submit's command: the stream is done already.
	u := r.Stream.Take()
	if !u.Done || u.Finish != FinishRejected || u.Err == "" || len(u.Tokens) != 0 {
		t.Fatalf("update %+v", u)
	}
}

// blocksFree waits until the engine holds no sequence and no block.
func blocksFree(t *testing.T, e *Engine) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // bounds a hang only
	for {
		var used int
		var work bool
		if err := e.Exec(context.Background(), func() { used, work = e.Blocks().NumUsed(), e.HasWork() }); err != nil {
			t.Fatal(err)
		}
		if used == 0 && !work {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d blocks still used, work %v", used, work)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAbortRunningAndWaiting(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens = 1, 64
	cfg.MaxModelLen = 256
	e := newTestEngine(t, cfg, 1<<30)
	obs := &countingObserver{}
	e.obs = append(e.obs, obs, &pauseAt{e: e, id: "a"})
	runLoop(t, e)
	mk := func(id string) *Request {
		return &Request{ID: id, Prompt: []int32{5, 6, 7}, Params: SamplingParams{MaxTokens: 200, IgnoreEOS: true}, Stream: NewTokenStream()}
	}
	a, b := mk("a"), mk("b")
	if err := e.Submit(context.Background(), []*Request{a, b}); err != nil {
		t.Fatal(err)
	}
	// a runs (one sequence per step), b waits: abort b first.
	if err := e.Abort(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	if toks, u := drain(t, b.Stream); u.Finish != FinishAborted || len(toks) != 0 {
		t.Fatalf("b: %d tokens, %+v", len(toks), u)
	}
	// a runs and pauses the engine at its first token (pauseAt, on the
	// engine goroutine), so the abort lands mid-generation on any machine.
	<-a.Stream.Ready()
	if err := e.Abort(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	toks, u := drain(t, a.Stream)
	if u.Finish != FinishAborted || u.Err != "aborted" || len(toks) != 1 {
		t.Fatalf("a: %d tokens, %+v", len(toks), u)
	}
	if err := e.SetPaused(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	blocksFree(t, e)
	if err := e.Abort(context.Background(), "a"); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("second abort: %v", err)
	}
	obs.mu.Lock()
	finished := obs.finished
	obs.mu.Unlock()
	if finished != 2 {
		t.Fatalf("observers saw %d finished", finished)
	}
	// The engine still runs requests after the aborts.
	res, err := e.Generate(context.Background(), []*Request{{ID: "c", Prompt: []int32{9}, Params: SamplingParams{MaxTokens: 3, IgnoreEOS: true}}})
	if err != nil || len(res[0].Output) != 3 {
		t.Fatalf("after aborts: %v %+v", err, res)
	}
}

// pauseAt pauses the engine from its own goroutine when request id gets
// its first token.
type pauseAt struct {
	e  *Engine
	id string
}

func (p *pauseAt) OnStep(*StepEvent) {}
func (p *pauseAt) OnRequest(ev *RequestEvent) {
	if ev.ID == p.id && ev.Kind == EvFirstToken {
		p.e.paused = true
	}
}

func TestTokenStreamEndsWhenTheEngineStops(t *testing.T) {
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	e.obs = append(e.obs, &pauseAt{e: e, id: "x"}) // x cannot finish before the stop
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	r := &Request{ID: "x", Prompt: []int32{5}, Params: SamplingParams{MaxTokens: 250, IgnoreEOS: true}, Stream: NewTokenStream()}
	if err := e.Submit(context.Background(), []*Request{r}); err != nil {
		t.Fatal(err)
	}
	<-r.Stream.Ready()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, u := drain(t, r.Stream); u.Finish != FinishAborted {
		t.Fatalf("update %+v", u)
	}
	if err := e.Abort(context.Background(), "x"); !errors.Is(err, ErrStopped) {
		t.Fatalf("abort after stop: %v", err)
	}
}

func TestAddObserver(t *testing.T) {
	e := newTestEngine(t, DefaultConfig(), 1<<30)
	runLoop(t, e)
	obs := &countingObserver{}
	if err := e.AddObserver(context.Background(), obs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Generate(context.Background(), randomRequests(5, 4, 8, 6)); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.finished != 4 || obs.steps == 0 {
		t.Fatalf("observer saw %d finished, %d steps", obs.finished, obs.steps)
	}
}
