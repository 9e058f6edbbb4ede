package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"benchtop/engine"
)

// member is a pool member for these tests: a server (driver_test.go) that
// can be switched off, then failing every request as a dead server does,
// and that can be checked.
type member struct {
	*server
	dead     atomic.Bool
	submit   atomic.Bool // Generate itself fails (an engine whose loop stopped)
	checks   atomic.Int64
	settings atomic.Int64
}

func newMember(delay time.Duration) *member { return &member{server: newServer(delay)} }

func (m *member) Generate(ctx context.Context, reqs []*engine.Request) ([]engine.Result, error) {
	if m.submit.Load() {
		return nil, errors.New("the engine stopped")
	}
	if m.dead.Load() {
		out := make([]engine.Result, len(reqs))
		for i, r := range reqs {
			out[i] = engine.Result{ID: r.ID, Finish: engine.FinishAborted, Err: "connect: connection refused"}
		}
		return out, nil
	}
	return m.server.Generate(ctx, reqs)
}

func (m *member) Check(context.Context) error {
	m.checks.Add(1)
	if m.dead.Load() {
		return errors.New("connection refused")
	}
	return nil
}

func (m *member) FailureKind(r engine.Result) (string, bool) {
	kind, _, _ := strings.Cut(r.Err, ":")
	return kind, kind == "connect"
}

func (m *member) SetMaxNumSeqs(context.Context, int) error { m.settings.Add(1); return nil }
func (m *member) Reconfigure(context.Context, engine.Config, string) error {
	m.settings.Add(1)
	return nil
}
func (m *member) SetPaused(context.Context, bool) error { m.settings.Add(1); return nil }

func newTestPool(t *testing.T, policy Policy, retry time.Duration, ms ...Target) *Pool {
	t.Helper()
	var members []Member
	for i, m := range ms {
		members = append(members, Member{Name: fmt.Sprintf("m%d", i), Kind: "server", Target: m})
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := NewPool(ctx, members, policy, retry)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPoolSpreadsEvenly(t *testing.T) {
	for _, policy := range []Policy{LeastOutstanding, RoundRobin} {
		t.Run(policy.String(), func(t *testing.T) {
			a, b, c := newMember(time.Millisecond), newMember(time.Millisecond), newMember(time.Millisecond)
			p := newTestPool(t, policy, 0, a, b, c)
			o := Drive(context.Background(), p, load(30, nil, 0), Once, ids(), nil)
			if o.Err != nil || o.Done != 30 {
				t.Fatalf("err %v, done %d", o.Err, o.Done)
			}
			for i, r := range o.Results {
				if len(r.Output) != 1+i%3 || r.Finish != engine.FinishLength {
					t.Fatalf("result %d: %+v (results follow the load's order)", i, r)
				}
			}
			for i, m := range []*member{a, b, c} {
				if n := m.exactlyOnce(t); n != 10 {
					t.Errorf("member %d finished %d of 30 (want 10)", i, n)
				}
			}
			for _, mi := range p.Members() {
				if !mi.Up || mi.Sent != 10 || mi.Outstanding != 0 {
					t.Errorf("%+v", mi)
				}
			}
		})
	}
}

// Least outstanding sends to the member with the fewest in flight: a slow
// member gets fewer of a closed loop's requests.
func TestPoolLeastOutstandingFavoursTheFaster(t *testing.T) {
	// The slow member holds its requests until the fast one has done all
	// the others (or until both clients wait on it, as they would if it
	// were sent requests while the fast one is free): slow by as much as
	// it takes, on any machine.
	fast, slow := newMember(time.Millisecond), &member{server: newGatedServer(0)}
	p := newTestPool(t, LeastOutstanding, 0, fast, slow)
	go func() {
		defer slow.open()
		slow.waitUntil(t, "the fast member to carry the run", func(_, inflight, _ int) bool {
			fast.mu.Lock()
			nf := len(fast.finished)
			fast.mu.Unlock()
			return inflight == 2 || nf+inflight == 60
		})
	}()
	o := Drive(context.Background(), p, load(60, nil, 2), Once, ids(), nil)
	if o.Err != nil || o.Done != 60 {
		t.Fatalf("err %v, done %d", o.Err, o.Done)
	}
	nf, ns := fast.exactlyOnce(t), slow.exactlyOnce(t)
	if nf+ns != 60 || nf <= 2*ns {
		t.Fatalf("fast %d, slow %d: least outstanding should send most to the fast one", nf, ns)
	}
}

// A member that dies is marked down with its failure, its failed requests
// are counted by kind, the run goes on on the others, and it comes back
// once a check finds it answering again.
func TestPoolMemberDownAndBack(t *testing.T) {
	a, b := newMember(time.Millisecond), newMember(time.Millisecond)
	p := newTestPool(t, RoundRobin, 20*time.Millisecond, a, b)
	b.dead.Store(true)
	o := Drive(context.Background(), p, load(20, nil, 1), Once, ids(), nil)
	if o.Err != nil || o.Done != 20 {
		t.Fatalf("err %v, done %d", o.Err, o.Done)
	}
	failed := 0
	for _, r := range o.Results {
		if r.Finish == engine.FinishAborted {
			failed++
		}
	}
	ms := p.Members()
	if ms[1].Up || !strings.Contains(ms[1].Why, "connection refused") || ms[1].Failed["connect"] != failed || failed == 0 {
		t.Fatalf("member 1: %+v, %d failed results", ms[1], failed)
	}
	if a.exactlyOnce(t) != 20-failed || !ms[0].Up {
		t.Fatalf("the others did not carry the run: %+v", ms[0])
	}
	// Back: a check while dispatching finds it answering.
	b.dead.Store(false)
	waitFor(t, "the member to come back", func() bool {
		Drive(context.Background(), p, load(2, nil, 0), Once, ids(), nil)
		return p.Members()[1].Up
	})
	if b.checks.Load() < 2 {
		t.Fatalf("%d checks", b.checks.Load())
	}
}

// A member whose submission fails (an engine whose loop stopped) is down
// for good; with every member down and none that can be checked, a batch
// is ErrAllDown.
func TestPoolSubmitFailure(t *testing.T) {
	a, b := newMember(time.Millisecond), newMember(time.Millisecond)
	p := newTestPool(t, RoundRobin, time.Millisecond, engineLike{a}, engineLike{b})
	b.submit.Store(true)
	o := Drive(context.Background(), p, load(4, nil, 0), Once, ids(), nil)
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	ms := p.Members()
	if ms[1].Up || ms[1].Failed["submit"] != 2 || !strings.Contains(ms[1].Why, "the engine stopped") {
		t.Fatalf("%+v", ms[1])
	}
	a.submit.Store(true)
	Drive(context.Background(), p, load(2, nil, 0), Once, ids(), nil)
	if _, err := p.Generate(context.Background(), load(1, nil, 0).Requests); !errors.Is(err, ErrAllDown) {
		t.Fatalf("every member down: %v", err)
	}
}

// engineLike hides the member's check: it cannot be retried.
type engineLike struct{ m *member }

func (e engineLike) Generate(ctx context.Context, reqs []*engine.Request) ([]engine.Result, error) {
	return e.m.Generate(ctx, reqs)
}
func (e engineLike) Status() *engine.Status { return nil }

// With every member down, a batch waits for a retry instead of spinning,
// then fails on a down member (counted), and the caller's ctx ends a wait.
func TestPoolAllDownWaitsForRetry(t *testing.T) {
	a := newMember(time.Millisecond)
	a.dead.Store(true)
	p := newTestPool(t, LeastOutstanding, 50*time.Millisecond, a)
	Drive(context.Background(), p, load(1, nil, 0), Once, ids(), nil) // marks it down
	t0 := time.Now()
	res, err := p.Generate(context.Background(), load(3, nil, 0).Requests)
	if err != nil || len(res) != 3 || res[0].Finish != engine.FinishAborted {
		t.Fatalf("%v %+v", err, res)
	}
	if waited := time.Since(t0); waited < 40*time.Millisecond {
		t.Fatalf("a batch to a dead pool went out after %s (want a retry interval)", waited)
	}
	if n := p.Members()[0].Failed["connect"]; n != 4 {
		t.Fatalf("%d failures counted, want 4", n)
	}
	// The caller's ctx ends the wait: a pool whose retry is an hour away,
	// so that the ctx is the only thing that can end it on any machine.
	b := newMember(time.Millisecond)
	b.dead.Store(true)
	q := newTestPool(t, LeastOutstanding, time.Hour, b)
	Drive(context.Background(), q, load(1, nil, 0), Once, ids(), nil) // marks it down
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := q.Generate(ctx, load(1, nil, 0).Requests); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx: %v", err)
	}
	if n := q.Members()[0].Failed["connect"]; n != 1 {
		t.Fatalf("%d failures counted, want the first batch's 1", n)
	}
}

func TestPoolSettingsGoToEveryMember(t *testing.T) {
	a, b := newMember(time.Millisecond), newMember(time.Millisecond)
	p := newTestPool(t, LeastOutstanding, 0, a, b, newServer(time.Millisecond))
	if c := CapsOf(p); !c.MaxNumSeqs || !c.Reconfigure || !c.Pause {
		t.Fatalf("caps %+v", c)
	}
	ctx := context.Background()
	if err := p.SetMaxNumSeqs(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if err := p.Reconfigure(ctx, engine.DefaultConfig(), "x"); err != nil {
		t.Fatal(err)
	}
	if a.settings.Load() != 2 || b.settings.Load() != 2 {
		t.Fatalf("settings reached %d and %d", a.settings.Load(), b.settings.Load())
	}
	q := newTestPool(t, LeastOutstanding, 0, newServer(time.Millisecond))
	if c := CapsOf(q); c.MaxNumSeqs || c.Pause {
		t.Fatalf("a pool of members without controls: caps %+v", c)
	}
	if err := q.SetPaused(ctx, true); err == nil {
		t.Fatal("pausing members without controls")
	}
}

// The policy's names parse, and the pool survives concurrent batches.
func TestPoolConcurrentBatches(t *testing.T) {
	for _, s := range []string{"", "least-outstanding", "round-robin"} {
		if _, err := ParsePolicy(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ParsePolicy("random"); err == nil {
		t.Fatal("random")
	}
	a, b := newMember(time.Millisecond), newMember(2*time.Millisecond)
	p := newTestPool(t, LeastOutstanding, 0, a, b)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := load(10, nil, 0)
			for _, r := range l.Requests {
				r.ID = fmt.Sprintf("g%d-%s", g, r.ID)
			}
			if _, err := p.Generate(context.Background(), l.Requests); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := a.exactlyOnce(t) + b.exactlyOnce(t); n != 80 {
		t.Fatalf("%d finished", n)
	}
}
