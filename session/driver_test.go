package session

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"benchtop/engine"
)

// server is a Target that serves each request after a delay, like a
// remote server would, and records what it saw: every request it finished
// and the most it had in flight. A request whose caller stops waiting still
// finishes, as on a real server.
type server struct {
	delay    time.Duration
	gate     chan struct{} // when set, requests are served only once it is closed (then after delay)
	mu       sync.Mutex
	batches  []int
	finished map[string]int
	inflight int
	peak     int
}

func newServer(delay time.Duration) *server { return &server{delay: delay, finished: map[string]int{}} }

// newGatedServer holds every request until open is called: what is in
// flight at a moment is then the test's choice, not the machine's speed.
func newGatedServer(delay time.Duration) *server {
	return &server{delay: delay, gate: make(chan struct{}), finished: map[string]int{}}
}

func (s *server) open() { close(s.gate) }

// served is ready when a request that arrived now is served.
func (s *server) served() <-chan struct{} {
	ch := make(chan struct{})
	if s.gate == nil {
		time.AfterFunc(s.delay, func() { close(ch) })
		return ch
	}
	go func() {
		<-s.gate
		time.Sleep(s.delay)
		close(ch)
	}()
	return ch
}

// waitUntil polls the server's state until ok holds; the deadline only
// bounds a hang.
func (s *server) waitUntil(t *testing.T, what string, ok func(finished, inflight, peak int) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		done := ok(len(s.finished), s.inflight, s.peak)
		s.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *server) Status() *engine.Status { return nil }

func (s *server) Generate(ctx context.Context, reqs []*engine.Request) ([]engine.Result, error) {
	s.mu.Lock()
	s.batches = append(s.batches, len(reqs))
	s.inflight += len(reqs)
	s.peak = max(s.peak, s.inflight)
	s.mu.Unlock()
	finish := func() []engine.Result {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.inflight -= len(reqs)
		out := make([]engine.Result, len(reqs))
		for i, r := range reqs {
			s.finished[r.ID]++
			out[i] = engine.Result{ID: r.ID, Output: make([]int32, r.Params.MaxTokens), Finish: engine.FinishLength}
		}
		return out
	}
	served := s.served()
	select {
	case <-served:
		return finish(), nil
	case <-ctx.Done():
		go func() { <-served; finish() }()
		return nil, ctx.Err()
	}
}

// exactlyOnce checks every finished request finished once, and returns
// how many there were.
func (s *server) exactlyOnce(t *testing.T) int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.finished {
		if n != 1 {
			t.Errorf("request %s finished %d times", id, n)
		}
	}
	return len(s.finished)
}

func (s *server) settle(t *testing.T, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		n, in := len(s.finished), s.inflight
		s.mu.Unlock()
		if int64(n) == want && in == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server finished %d of %d sent (%d in flight)", n, want, in)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func load(n int, arrivals []time.Duration, clients int) Load {
	l := Load{Name: "t", Arrivals: arrivals, Clients: clients}
	for i := 0; i < n; i++ {
		l.Requests = append(l.Requests, &engine.Request{ID: fmt.Sprint(i), Prompt: []int32{1, 2}, Params: engine.SamplingParams{MaxTokens: 1 + i%3}})
	}
	return l
}

func ids() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("x-%d", n.Add(1)) }
}

func TestDriveAllOnceIsOneBatch(t *testing.T) {
	srv := newServer(time.Millisecond)
	o := Drive(context.Background(), srv, load(50, nil, 0), Once, ids(), nil)
	if o.Err != nil || len(srv.batches) != 1 || srv.batches[0] != 50 || o.Sent != 50 || o.Done != 50 {
		t.Fatalf("err %v, batches %v, sent %d, done %d", o.Err, srv.batches, o.Sent, o.Done)
	}
	for i, r := range o.Results {
		if r.ID == "" || len(r.Output) != 1+i%3 {
			t.Fatalf("result %d: %+v (results must follow the load's order)", i, r)
		}
	}
	if srv.exactlyOnce(t) != 50 {
		t.Fatal("not every request finished")
	}
}

func TestDriveClosedLoopOnceIsBounded(t *testing.T) {
	// The first requests are held until three are in flight (a driver with
	// fewer clients never gets there: the wait times out and fails).
	srv := newGatedServer(2 * time.Millisecond)
	go func() {
		defer srv.open()
		srv.waitUntil(t, "three requests in flight", func(_, inflight, _ int) bool { return inflight == 3 })
	}()
	o := Drive(context.Background(), srv, load(40, nil, 3), Once, ids(), nil)
	if o.Err != nil || o.Done != 40 || srv.peak != 3 || len(srv.batches) != 40 {
		t.Fatalf("err %v, done %d, peak in flight %d (want 3), %d batches", o.Err, o.Done, srv.peak, len(srv.batches))
	}
	if srv.exactlyOnce(t) != 40 {
		t.Fatal("not every request finished")
	}
	for i, r := range o.Results {
		if len(r.Output) != 1+i%3 {
			t.Fatalf("result %d out of order", i)
		}
	}
}

func TestDriveOpenLoopOnceKeepsOffsets(t *testing.T) {
	srv := newServer(time.Millisecond)
	arr := []time.Duration{0, 0, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond}
	o := Drive(context.Background(), srv, load(5, arr, 0), Once, ids(), nil)
	if o.Err != nil || o.Done != 5 || len(srv.batches) != 4 || srv.batches[0] != 2 {
		t.Fatalf("err %v, done %d, batches %v (requests due together go together)", o.Err, o.Done, srv.batches)
	}
	if o.Wall < 60*time.Millisecond || len(o.Lags) != 4 {
		t.Fatalf("wall %s, %d lags", o.Wall, len(o.Lags))
	}
	srv.exactlyOnce(t)
}

func TestDriveKeepRunning(t *testing.T) {
	cases := []struct {
		name      string
		l         Load
		wantPeak  int
		wantRound bool // more requests sent than the load has
	}{
		{"all: one client per request", load(6, nil, 0), 6, true},
		{"closed:2", load(6, nil, 2), 2, true},
		{"open loop repeats its offsets", load(3, []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond}, 0), 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Requests are held until the clients' peak is in flight; the
			// drive is stopped once it has gone round the load: events, not
			// a time that a loaded machine might not reach them in.
			srv := newGatedServer(3 * time.Millisecond)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var seen atomic.Int64
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				defer cancel()
				if c.wantPeak > 0 {
					srv.waitUntil(t, "the clients' peak in flight", func(_, _, peak int) bool { return peak >= c.wantPeak })
				}
				srv.open()
				deadline := time.Now().Add(30 * time.Second)
				for seen.Load() <= int64(len(c.l.Requests)) && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}()
			o := Drive(ctx, srv, c.l, KeepRunning, ids(), func(engine.Result) { seen.Add(1) })
			<-stopped
			if o.Err != context.Canceled || o.Results != nil {
				t.Fatalf("err %v (want the context's), results kept: %d", o.Err, len(o.Results))
			}
			if c.wantPeak > 0 && srv.peak != c.wantPeak {
				t.Errorf("peak in flight %d, want %d", srv.peak, c.wantPeak)
			}
			if o.Sent <= int64(len(c.l.Requests)) {
				t.Errorf("sent %d: the load was not repeated", o.Sent)
			}
			if seen.Load() != o.Done {
				t.Errorf("onDone saw %d, done %d", seen.Load(), o.Done)
			}
			// Requests in flight when the drive stopped still finish, once.
			srv.settle(t, o.Sent)
			srv.exactlyOnce(t)
		})
	}
}

// However many requests "all" has, the kept-running clients are a bounded
// pool.
func TestDriveClientsAreBounded(t *testing.T) {
	srv := newServer(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	o := Drive(ctx, srv, load(MaxClients+500, nil, 0), KeepRunning, ids(), nil)
	if srv.peak > MaxClients {
		t.Fatalf("%d requests in flight from at most %d clients", srv.peak, MaxClients)
	}
	srv.settle(t, o.Sent)
	srv.exactlyOnce(t)
}

func TestDriveStopsOnceOnCancel(t *testing.T) {
	// Both clients' requests are held until the drive has returned: the
	// cancel comes while they are in flight on any machine.
	srv := newGatedServer(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		srv.waitUntil(t, "both clients' requests in flight", func(_, inflight, _ int) bool { return inflight == 2 })
	}()
	o := Drive(ctx, srv, load(10, nil, 2), Once, ids(), nil)
	srv.open()
	if o.Err == nil || o.Done != 0 {
		t.Fatalf("err %v, done %d", o.Err, o.Done)
	}
	if o := Drive(context.Background(), srv, Load{}, Once, ids(), nil); o.Err != ErrNoRequests {
		t.Fatalf("empty load: %v", o.Err)
	}
	srv.settle(t, o.Sent)
}
