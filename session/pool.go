package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"benchtop/engine"
)

// Policy picks the member of a pool a request goes to.
type Policy int

const (
	// LeastOutstanding sends each request to the member with the fewest
	// requests in flight (ties in turn): the default, as vLLM's
	// data-parallel front end and most routers do.
	LeastOutstanding Policy = iota
	// RoundRobin sends requests to the members in turn.
	RoundRobin
)

func (p Policy) String() string {
	if p == RoundRobin {
		return "round-robin"
	}
	return "least-outstanding"
}

// ParsePolicy reads "least-outstanding" (or "") and "round-robin".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "least-outstanding", "lor":
		return LeastOutstanding, nil
	case "round-robin", "rr":
		return RoundRobin, nil
	}
	return 0, fmt.Errorf("dispatch policy %q: want least-outstanding or round-robin", s)
}

// Member is one target of a pool: a data-parallel engine replica or one
// server of a fleet.
type Member struct {
	Name   string // what its row shows: "replica 0 (GPU 0)", a server's URL
	Kind   string // "replica" or "server"
	Target Target
}

// checker is the optional capability of a member that can say whether it
// answers now (a server: GET /v1/models). A member that goes down and has it
// is retried every RetryEvery; one without it (an engine replica whose loop
// stopped) stays down.
type checker interface {
	Check(ctx context.Context) error
}

// classifier is the optional capability of a member whose failed results
// carry a kind (a server's: http_5xx, dropped, ...) and may mean that the
// member is down (nothing answers). Without it, a failed result's kind is
// its finish reason.
type classifier interface {
	FailureKind(r engine.Result) (kind string, maybeDown bool)
}

// MemberInfo is one member as a pool sees it now.
type MemberInfo struct {
	Index       int            `json:"index"`
	Name        string         `json:"name"`
	Kind        string         `json:"kind"`
	Up          bool           `json:"up"`
	Why         string         `json:"why,omitempty"` // why it is down (the failure that marked it)
	DownSince   time.Time      `json:"down_since,omitzero"`
	Downs       int            `json:"downs"` // times it went down
	Outstanding int            `json:"outstanding"`
	Sent        int64          `json:"sent"`
	Failed      map[string]int `json:"failed_by_kind"`
}

type memberState struct {
	Member
	index       int
	outstanding atomic.Int64
	sent        atomic.Int64

	mu        sync.Mutex
	down      bool
	why       string
	since     time.Time
	downs     int
	nextRetry time.Time
	probing   bool
	failed    map[string]int
}

// Pool is a Target over N targets with a dispatch policy: the engine
// replicas of data parallelism, or a fleet of servers. A member that fails
// in a way that means nothing answers (a server refusing connections, a
// replica whose loop stopped) is marked down with the failure, its failed
// requests are counted by kind, and requests go to the others; a down
// member that can be checked is checked every RetryEvery and comes back
// when it answers. With every member down, a batch waits up to RetryEvery
// for one to come back and is then sent to a down member that can be
// checked (a retry whose failure is counted), or fails with an error when
// none can be.
//
// Settings changes (Controls) go to every member that takes them.
type Pool struct {
	members    []*memberState
	policy     Policy
	retryEvery time.Duration
	ctx        context.Context // bounds checks; the pool's life
	next       atomic.Uint64   // the next turn (round robin, ties)
	only       atomic.Int64    // the one member dispatched to; -1: every member
	upMu       sync.Mutex
	upCh       chan struct{} // closed when a member comes back up
}

// DefaultRetryEvery is how often a down member is checked again.
const DefaultRetryEvery = 2 * time.Second

// ErrAllDown is returned when every member of a pool is down and none can
// be retried.
var ErrAllDown = errors.New("every member of the pool is down")

// NewPool builds a pool over members (at least one) until ctx ends (which
// bounds its checks of down members); retryEvery 0 is DefaultRetryEvery.
func NewPool(ctx context.Context, members []Member, policy Policy, retryEvery time.Duration) (*Pool, error) {
	if len(members) == 0 {
		return nil, errors.New("a pool needs at least one member")
	}
	if retryEvery <= 0 {
		retryEvery = DefaultRetryEvery
	}
	p := &Pool{policy: policy, retryEvery: retryEvery, ctx: ctx, upCh: make(chan struct{})}
	p.only.Store(-1)
	for i, m := range members {
		if m.Target == nil {
			return nil, fmt.Errorf("pool member %d (%s) has no target", i, m.Name)
		}
		p.members = append(p.members, &memberState{Member: m, index: i, failed: map[string]int{}})
	}
	return p, nil
}

// Only sends every request to member i from now on (a comparison of the
// members one at a time); i < 0 sends to every member again.
func (p *Pool) Only(i int) error {
	if i >= len(p.members) {
		return fmt.Errorf("pool member %d: the pool has %d", i, len(p.members))
	}
	p.only.Store(int64(max(i, -1)))
	return nil
}

// eligible says whether member m takes requests now (Only).
func (p *Pool) eligible(m *memberState) bool {
	o := p.only.Load()
	return o < 0 || int(o) == m.index
}

// Len is the number of members.
func (p *Pool) Len() int { return len(p.members) }

// Policy is the dispatch policy.
func (p *Pool) Policy() Policy { return p.policy }

// Member is member i's target.
func (p *Pool) Member(i int) Target { return p.members[i].Target }

// Members describes every member now.
func (p *Pool) Members() []MemberInfo {
	out := make([]MemberInfo, len(p.members))
	for i, m := range p.members {
		m.mu.Lock()
		out[i] = MemberInfo{Index: i, Name: m.Name, Kind: m.Kind, Up: !m.down, Why: m.why, DownSince: m.since, Downs: m.downs,
			Outstanding: int(m.outstanding.Load()), Sent: m.sent.Load(), Failed: maps.Clone(m.failed)}
		m.mu.Unlock()
	}
	return out
}

// Status is the first up member's status (replicas share their settings),
// else the first member's.
func (p *Pool) Status() *engine.Status {
	for _, m := range p.members {
		if st := m.Target.Status(); st != nil && m.isUp() {
			return st
		}
	}
	return p.members[0].Target.Status()
}

// Caps are the settings changes some member takes; a change goes to every
// member that takes it.
func (p *Pool) Caps() Caps {
	var c Caps
	for _, m := range p.members {
		x := CapsOf(m.Target)
		c.MaxNumSeqs = c.MaxNumSeqs || x.MaxNumSeqs
		c.Reconfigure = c.Reconfigure || x.Reconfigure
		c.Pause = c.Pause || x.Pause
	}
	return c
}

// each applies f to every member with Controls, concurrently (replicas
// rebuild their pools at once), and joins the errors, each naming its
// member.
func (p *Pool) each(what string, f func(Controls) error) error {
	errs := make([]error, len(p.members))
	var wg sync.WaitGroup
	any := false
	for i, m := range p.members {
		c, ok := m.Target.(Controls)
		if !ok {
			continue
		}
		any = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(c); err != nil {
				errs[i] = fmt.Errorf("%s: %w", m.Name, err)
			}
		}()
	}
	wg.Wait()
	if !any {
		return fmt.Errorf("%s: no member of the pool takes settings changes", what)
	}
	return errors.Join(errs...)
}

// SetMaxNumSeqs changes every member's batch size.
func (p *Pool) SetMaxNumSeqs(ctx context.Context, n int) error {
	return p.each("max_num_seqs", func(c Controls) error { return c.SetMaxNumSeqs(ctx, n) })
}

// Reconfigure applies c to every member.
func (p *Pool) Reconfigure(ctx context.Context, c engine.Config, what string) error {
	return p.each(what, func(x Controls) error { return x.Reconfigure(ctx, c, what) })
}

// SetPaused pauses or resumes every member.
func (p *Pool) SetPaused(ctx context.Context, paused bool) error {
	return p.each("pause", func(c Controls) error { return c.SetPaused(ctx, paused) })
}

func (m *memberState) isUp() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.down
}

// Generate spreads reqs over the members by the policy, submits each
// member's share as one batch, and waits for every result (in the order of
// reqs). A member whose submission fails (its loop stopped) is marked down
// and its share comes back as aborted results naming the failure; the
// error is ctx's, or ErrAllDown when no member can take the batch. Members
// are not cancelled with ctx: requests already sent finish there, their
// events still reach the collector, and the member's outstanding count
// stays true.
func (p *Pool) Generate(ctx context.Context, reqs []*engine.Request) ([]engine.Result, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	var shares [][]int // per member: indexes into reqs
	shares = make([][]int, len(p.members))
	waited := false
	for i := range reqs {
		m, err := p.pick(ctx, &waited)
		if err != nil {
			for j, s := range shares {
				p.members[j].outstanding.Add(-int64(len(s)))
			}
			return nil, err
		}
		shares[m.index] = append(shares[m.index], i)
		m.outstanding.Add(1)
	}
	out := make([]engine.Result, len(reqs))
	var wg sync.WaitGroup
	for j, idx := range shares {
		if len(idx) == 0 {
			continue
		}
		m := p.members[j]
		batch := make([]*engine.Request, len(idx))
		for k, i := range idx {
			batch[k] = reqs[i]
		}
		m.sent.Add(int64(len(batch)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer m.outstanding.Add(-int64(len(batch)))
			res, err := m.Target.Generate(context.WithoutCancel(ctx), batch)
			if err == nil && len(res) != len(batch) {
				err = fmt.Errorf("%d results for %d requests", len(res), len(batch))
			}
			if err != nil {
				p.markDown(m, "submit", err.Error())
				res = make([]engine.Result, len(batch))
				for k, r := range batch {
					res[k] = engine.Result{ID: r.ID, Prompt: r.Prompt, MaxTokens: r.Params.MaxTokens, Finish: engine.FinishAborted,
						Err: fmt.Sprintf("%s: %v", m.Name, err), Arrival: r.Arrival}
				}
				m.count("submit", len(batch))
			} else {
				p.account(m, res)
			}
			for k, i := range idx {
				out[i] = res[k] // each index is written by one goroutine only
			}
		}()
	}
	if err := waitAll(ctx, &wg); err != nil {
		return nil, err
	}
	return out, nil
}

// account counts a member's failed results by kind and marks it down when
// a failure means nothing answers and a check confirms it.
func (p *Pool) account(m *memberState, res []engine.Result) {
	cl, _ := m.Target.(classifier)
	for _, r := range res {
		if r.Finish != engine.FinishRejected && r.Finish != engine.FinishAborted {
			continue
		}
		kind, maybeDown := r.Finish.String(), false
		if cl != nil {
			kind, maybeDown = cl.FailureKind(r)
		}
		m.count(kind, 1)
		if maybeDown && m.startCheck() {
			err := p.check(m)
			m.endCheck()
			if err != nil {
				p.markDown(m, kind, r.Err)
			}
		}
	}
	if st := m.Target.Status(); st != nil && (st.State == engine.StateFailed || st.State == engine.StateStopped) {
		why := "the engine " + st.State.String()
		if st.Err != nil {
			why += ": " + st.Err.Error()
		}
		p.markDown(m, "engine", why)
	}
}

// startCheck claims the member's one check in flight while it is up (a
// burst of failures makes one check, not one each); endCheck releases it.
func (m *memberState) startCheck() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down || m.probing {
		return false
	}
	m.probing = true
	return true
}

func (m *memberState) endCheck() {
	m.mu.Lock()
	m.probing = false
	m.mu.Unlock()
}

func (m *memberState) count(kind string, n int) {
	m.mu.Lock()
	m.failed[kind] += n
	m.mu.Unlock()
}

// check asks a member that can be checked whether it answers (a few
// seconds at most); members without the capability answer "no".
func (p *Pool) check(m *memberState) error {
	c, ok := m.Target.(checker)
	if !ok {
		return errors.New("cannot be checked")
	}
	ctx, cancel := context.WithTimeout(p.ctx, min(p.retryEvery, 5*time.Second))
	defer cancel()
	return c.Check(ctx)
}

func (p *Pool) markDown(m *memberState, kind, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return
	}
	if !strings.HasPrefix(why, kind) {
		why = kind + ": " + why
	}
	m.down, m.why, m.since, m.downs = true, why, time.Now(), m.downs+1
	m.nextRetry = m.since.Add(p.retryEvery)
}

func (p *Pool) markUp(m *memberState) {
	m.mu.Lock()
	was := m.down
	m.down, m.why, m.since = false, "", time.Time{}
	m.mu.Unlock()
	if was {
		p.upMu.Lock()
		close(p.upCh)
		p.upCh = make(chan struct{})
		p.upMu.Unlock()
	}
}

// probeDue starts a check of every down member whose retry is due (one
// check at a time per member).
func (p *Pool) probeDue(now time.Time) {
	for _, m := range p.members {
		if _, ok := m.Target.(checker); !ok {
			continue
		}
		m.mu.Lock()
		due := m.down && !m.probing && !now.Before(m.nextRetry)
		if due {
			m.probing, m.nextRetry = true, now.Add(p.retryEvery)
		}
		m.mu.Unlock()
		if !due || p.ctx.Err() != nil {
			if due {
				m.mu.Lock()
				m.probing = false
				m.mu.Unlock()
			}
			continue
		}
		go func() {
			err := p.check(m)
			m.mu.Lock()
			m.probing = false
			m.mu.Unlock()
			if err == nil {
				p.markUp(m)
			}
		}()
	}
}

// pick chooses the member for one request. With every member down it waits
// (once per batch: *waited) up to RetryEvery for one to come back, then
// picks the down member checked longest ago that can be retried.
func (p *Pool) pick(ctx context.Context, waited *bool) (*memberState, error) {
	for {
		p.probeDue(time.Now())
		if m := p.choose(); m != nil {
			return m, nil
		}
		retry := p.retryable()
		if retry == nil {
			return nil, fmt.Errorf("%w: %s", ErrAllDown, p.downReasons())
		}
		if *waited {
			return retry, nil
		}
		*waited = true
		p.upMu.Lock()
		up := p.upCh
		p.upMu.Unlock()
		t := time.NewTimer(p.retryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-up:
			t.Stop()
		case <-t.C:
		}
	}
}

// choose applies the policy over the members that are up; nil when none is.
func (p *Pool) choose() *memberState {
	n := len(p.members)
	start := int(p.next.Add(1)-1) % n
	var best *memberState
	bestLoad := int64(0)
	for k := 0; k < n; k++ {
		m := p.members[(start+k)%n]
		if !p.eligible(m) || !m.isUp() {
			continue
		}
		if p.policy == RoundRobin {
			return m
		}
		if load := m.outstanding.Load(); best == nil || load < bestLoad {
			best, bestLoad = m, load
		}
	}
	return best
}

// retryable is the down member with a check whose last retry is oldest.
func (p *Pool) retryable() *memberState {
	var best *memberState
	var bestAt time.Time
	for _, m := range p.members {
		if _, ok := m.Target.(checker); !ok || !p.eligible(m) {
			continue
		}
		m.mu.Lock()
		at := m.nextRetry
		m.mu.Unlock()
		if best == nil || at.Before(bestAt) {
			best, bestAt = m, at
		}
	}
	if best != nil {
		best.mu.Lock()
		best.nextRetry = time.Now().Add(p.retryEvery)
		best.mu.Unlock()
	}
	return best
}

func (p *Pool) downReasons() string {
	var parts []string
	for _, m := range p.Members() {
		parts = append(parts, m.Name+" ("+m.Why+")")
	}
	return strings.Join(parts, "; ")
}

var _ Controls = (*Pool)(nil)

// waitAll waits for wg, or returns ctx's error as soon as ctx ends (what
// wg waits for goes on and finishes on its own).
func waitAll(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
