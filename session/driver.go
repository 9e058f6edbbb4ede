package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"benchtop/engine"
	"benchtop/workloads"
)

// Pace says how long a load is sent.
type Pace int

const (
	// Once sends the workload once and waits for every request: a headless
	// run, timed around the whole of it as the tutorial times llm.generate.
	Once Pace = iota
	// KeepRunning sends it until stopped: the dashboard. A closed loop's
	// clients send their next request when their last one finishes; an open
	// loop repeats its arrival offsets end to end.
	KeepRunning
)

// Bounds of the driver: closed-loop clients are a fixed pool of goroutines,
// and an open loop holds at most MaxInFlight requests outstanding (a send
// that would exceed it waits, and shows as generator lag).
const (
	MaxClients  = workloads.MaxClients
	MaxInFlight = 16384
)

// ErrNoRequests is returned for a load with nothing to send.
var ErrNoRequests = errors.New("the workload has no requests")

// Load is a workload prepared for a target: its requests tokenized once
// (each send copies one) and how they are sent.
type Load struct {
	Name     string
	Requests []*engine.Request
	// Arrivals, for an open loop, are each request's send offset from the
	// start; nil for a closed loop.
	Arrivals []time.Duration
	// Clients is the closed loop's size; 0 is arrival "all": one client per
	// request, every one starting at once. Sent Once, "all" is one batch
	// (the tutorial's llm.generate).
	Clients int
	// OnLag, when set, sees how late each open-loop send was against its
	// offset, as it is sent (the dashboard's live generator lag).
	OnLag func(time.Duration)
}

// Load prepares a workload for this vocabulary: constant, poisson, gamma,
// ramp and trace arrivals are an open loop; closed:N a closed loop of N
// clients; all (the default) one client per request starting together.
func (v Vocab) Load(w workloads.Workload, seed int64, prefix string) (Load, error) {
	reqs, arrivals, err := v.Requests(w, seed, prefix)
	if err != nil {
		return Load{}, err
	}
	l := Load{Name: w.Name, Requests: reqs}
	switch {
	case w.Concurrency > 0:
		l.Clients = w.Concurrency
	case isOpenLoop(w.Arrival.Kind):
		l.Arrivals = arrivals
	}
	if l.Clients > MaxClients {
		return Load{}, fmt.Errorf("workload %s: %d clients; at most %d", w.Name, l.Clients, MaxClients)
	}
	return l, nil
}

func isOpenLoop(kind string) bool {
	switch kind {
	case "constant", "poisson", "gamma", "ramp", "trace":
		return true
	}
	return false
}

// Outcome is what a drive did.
type Outcome struct {
	Start time.Time
	Wall  time.Duration
	// Results (Once only) are one per request of the load, in its order; a
	// request never sent (the drive stopped first) has an empty ID.
	Results []engine.Result
	Sent    int64
	Done    int64 // requests whose result came back
	// Lags (Once, open loop) are how late each send was against its offset.
	Lags []time.Duration
	// Err is the first submission error, or ctx's when it ended the drive.
	Err error
}

// Drive sends l to t until it is sent Once (and every request has finished)
// or, KeepRunning, until ctx ends. id names each copy sent; it must be
// unique. onDone, when set, sees every result as it comes back (any
// goroutine).
func Drive(ctx context.Context, t Target, l Load, pace Pace, id func() string, onDone func(engine.Result)) *Outcome {
	d := &drive{ctx: ctx, t: t, l: l, pace: pace, id: id, onDone: onDone, o: &Outcome{Start: time.Now()}}
	n := len(l.Requests)
	if n == 0 {
		d.o.Err = ErrNoRequests
		return d.o
	}
	if pace == Once {
		d.o.Results = make([]engine.Result, n)
	}
	switch {
	case l.Arrivals != nil:
		d.open()
	case l.Clients == 0 && pace == Once:
		d.send(0, n) // "all": one batch
		d.o.Sent, d.o.Done = d.sent.Load(), d.done.Load()
	default:
		d.closed()
	}
	d.o.Wall = time.Since(d.o.Start)
	if d.o.Err == nil && pace == KeepRunning {
		d.o.Err = ctx.Err()
	}
	return d.o
}

type drive struct {
	ctx    context.Context
	t      Target
	l      Load
	pace   Pace
	id     func() string
	onDone func(engine.Result)
	o      *Outcome
	mu     sync.Mutex // o.Err, o.Lags
	sent   atomic.Int64
	done   atomic.Int64
}

func (d *drive) fail(err error) {
	d.mu.Lock()
	if d.o.Err == nil {
		d.o.Err = err
	}
	d.mu.Unlock()
}

// send submits copies of requests lo..hi-1 of the load (indexes taken
// modulo its length) as one batch and waits for them.
func (d *drive) send(lo, hi int) bool {
	n := len(d.l.Requests)
	batch := make([]*engine.Request, hi-lo)
	for j := range batch {
		r := *d.l.Requests[(lo+j)%n]
		r.ID, r.Arrival = d.id(), time.Time{}
		batch[j] = &r
	}
	d.sent.Add(int64(len(batch)))
	res, err := d.t.Generate(d.ctx, batch)
	if err != nil {
		d.fail(err)
		return false
	}
	d.done.Add(int64(len(res)))
	for j, r := range res {
		if d.pace == Once {
			d.o.Results[lo+j] = r // each index is written by one sender only
		}
		if d.onDone != nil {
			d.onDone(r)
		}
	}
	return true
}

// closed runs the client pool: each client takes the next request index
// and sends it when its last one has finished.
func (d *drive) closed() {
	n := len(d.l.Requests)
	clients := d.l.Clients
	if clients == 0 {
		clients = n
	}
	clients = min(clients, MaxClients)
	if d.pace == Once {
		clients = min(clients, n)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d.ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if d.pace == Once && i >= n {
					return
				}
				if d.pace == KeepRunning {
					i %= n
				}
				if !d.send(i, i+1) {
					return
				}
			}
			if d.pace == Once {
				d.fail(d.ctx.Err())
			}
		}()
	}
	wg.Wait()
	d.o.Sent, d.o.Done = d.sent.Load(), d.done.Load()
}

// open sends each request at its offset (requests due at the same offset
// in one batch), repeating the offsets end to end when KeepRunning.
func (d *drive) open() {
	n := len(d.l.Requests)
	arr := d.l.Arrivals
	span := arr[n-1] + arr[n-1]/time.Duration(n) // one mean gap after the last
	if span <= 0 {
		span = time.Second
	}
	inflight := make(chan struct{}, MaxInFlight)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		d.o.Sent, d.o.Done = d.sent.Load(), d.done.Load()
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for round := 0; ; round++ {
		base := d.o.Start.Add(time.Duration(round) * span)
		for lo := 0; lo < n; {
			hi := lo + 1
			for hi < n && arr[hi] == arr[lo] {
				hi++
			}
			due := base.Add(arr[lo])
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-d.ctx.Done():
					d.fail(d.ctx.Err())
					return
				case <-timer.C:
				}
			}
			select {
			case inflight <- struct{}{}:
			case <-d.ctx.Done():
				d.fail(d.ctx.Err())
				return
			}
			lag := max(0, time.Since(due))
			if d.pace == Once {
				d.mu.Lock()
				d.o.Lags = append(d.o.Lags, lag)
				d.mu.Unlock()
			}
			if d.l.OnLag != nil {
				d.l.OnLag(lag)
			}
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				defer func() { <-inflight }()
				d.send(round*n+lo, round*n+hi)
			}(lo, hi)
			lo = hi
		}
		if d.pace == Once {
			return
		}
	}
}
