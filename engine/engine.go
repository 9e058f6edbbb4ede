package engine

import (
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"benchtop/engine/model"
	"benchtop/kernels"
)

// Engine runs requests on a model and a backend. See the package doc for
// which goroutine owns what.
type Engine struct {
	be          kernels.Backend
	model       *model.Loaded
	cfg         Config // in force: every auto field resolved
	req         Config // as asked: zero where auto (what resolve re-reads on every change)
	maxModelLen int
	plan        MemoryPlan
	sz          sizing // how the auto settings in cfg were chosen
	failed      error  // set when a rebuild left the engine without buffers
	kv          *model.KVCache
	ws          *model.Workspace
	blocks      *BlockManager
	sched       *Scheduler
	obs         []Observer
	tokenEvs    []RequestEvent // a step's token events, not yet handed to obs (flushTokens)
	waiters     map[*Sequence]chan<- Result
	nextOrder   uint64
	stepIndex   int64
	paused      bool
	cmds        chan func()
	stopped     chan struct{} // closed when Run has returned
	status      atomic.Pointer[Status]
	now         func() time.Time
	buckets     []int // decode graph batch sizes
	ceilings    kernels.Ceilings
}

// Status is an immutable view of the engine's settings, published on change.
type Status struct {
	Config Config // in force: auto fields resolved
	// Requested is the configuration as asked for, zero where auto: the
	// base for a change that should keep the other settings auto (see
	// Engine.Reconfigure).
	Requested Config
	Plan      MemoryPlan
	Device    kernels.DeviceInfo
	Model     string
	Synthetic bool
	// ModelNote says what of the model is not the real one's, e.g.
	// "synthetic weights, GPT-2 tokenizer" ("" for a real folder).
	ModelNote string
	Params    int64
	State     RunState
	Err       error // why the engine failed (State is StateFailed)
	// Ceilings are the device's measured bandwidth and matrix rate, when the
	// backend measured them: the roofline the dashboard compares steps with.
	Ceilings kernels.Ceilings
	// The model's arithmetic, for step costs (see Cost).
	MatmulFLOPsPerToken           float64
	AttentionFLOPsPerContextToken float64
}

// New builds an engine: it sizes the workspace and the KV pool from the
// backend's memory and cfg.
func New(be kernels.Backend, m *model.Loaded, cfg Config, obs ...Observer) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{be: be, model: m, req: cfg, obs: obs, waiters: map[*Sequence]chan<- Result{}, cmds: make(chan func(), 64), stopped: make(chan struct{}), now: time.Now}
	cfg, sz := e.resolve(cfg)
	if err := e.build(cfg, sz); err != nil {
		return nil, err
	}
	e.publish(StateRunning, nil)
	return e, nil
}

// build (re)allocates the workspace and the KV pool for cfg (auto fields
// resolved, sized as sz says). Every running sequence must have been
// preempted first. Sizes are checked before anything is allocated.
func (e *Engine) build(cfg Config, sz sizing) error {
	e.freeBuffers()
	mc := &e.model.Cfg
	maxLen := e.modelLen(cfg)
	dt := e.model.ComputeDType // activations and KV cache
	if err := e.checkWorkspace(&cfg); err != nil {
		return err
	}
	weights := e.be.MemoryInUse()
	ws, err := model.NewWorkspace(e.be, mc, cfg.MaxNumBatchedTokens, cfg.MaxNumSeqs, dt)
	if err != nil {
		return err
	}
	activation := e.be.MemoryInUse() - weights
	capLen := 0
	if sz.capPool {
		capLen = maxLen
	}
	plan, err := planKV(e.be, mc, &cfg, dt, weights, activation, capLen)
	if err != nil {
		ws.Free(e.be)
		return err
	}
	plan.Reason = joinReasons(sz.reason, plan.poolReason(cfg.MaxNumSeqs))
	kv, err := model.NewKVCache(e.be, mc, plan.NumBlocks, cfg.BlockSize, dt)
	if err != nil {
		ws.Free(e.be)
		return err
	}
	e.cfg, e.sz, e.plan, e.ws, e.kv, e.maxModelLen = cfg, sz, plan, ws, kv, maxLen
	e.blocks = NewBlockManager(plan.NumBlocks, cfg.BlockSize)
	if e.sched == nil {
		e.sched = NewScheduler(&e.cfg, e.blocks)
	} else {
		e.sched.blocks = e.blocks
	}
	// Warm up first: the largest prefill grows the step metadata, which
	// would drop captured graphs.
	if err := e.warmPrefill(); err != nil {
		return err
	}
	return e.captureGraphs()
}

// freeBuffers drops the graphs (they point into the buffers) and frees the
// KV pool and the workspace.
func (e *Engine) freeBuffers() {
	if g, ok := e.be.(kernels.Grapher); ok {
		g.ResetGraphs()
	}
	if e.kv != nil {
		e.kv.Free(e.be)
		e.kv = nil
	}
	if e.ws != nil {
		e.ws.Free(e.be)
		e.ws = nil
	}
}

func (e *Engine) publish(state RunState, err error) {
	c := &e.model.Cfg
	e.status.Store(&Status{
		Config: e.cfg, Requested: e.req, Plan: e.plan, Device: e.be.Info(), Model: e.model.Source,
		Synthetic: e.model.Synthetic, ModelNote: e.model.WeightsNote(), Params: c.ParamCount(), State: state, Err: err, Ceilings: e.ceilings,
		MatmulFLOPsPerToken: c.MatmulFLOPsPerToken(), AttentionFLOPsPerContextToken: c.AttentionFLOPsPerContextToken(),
	})
}

// MeasureCeilings has a backend that can measure its bandwidth and matrix
// rate do so, and publishes them with the status (engine goroutine only,
// before Run or through Exec).
func (e *Engine) MeasureCeilings() error {
	m, ok := e.be.(kernels.CeilingMeter)
	if !ok {
		return nil
	}
	c, err := m.MeasureCeilings()
	if err != nil {
		return err
	}
	e.ceilings = c
	st := e.Status()
	e.publish(st.State, st.Err)
	return nil
}

// Status returns the latest published status; safe from any goroutine.
func (e *Engine) Status() *Status { return e.status.Load() }

// Model is the loaded model (read-only).
func (e *Engine) Model() *model.Loaded { return e.model }

// Config is the current configuration (engine goroutine only; others use Status).
func (e *Engine) Config() Config { return e.cfg }

// Plan is the current memory plan (engine goroutine only; others use Status).
func (e *Engine) Plan() MemoryPlan { return e.plan }

// Blocks is the block manager (engine goroutine only).
func (e *Engine) Blocks() *BlockManager { return e.blocks }

// HasWork says whether sequences are waiting or running.
func (e *Engine) HasWork() bool { return e.sched.HasWork() }

// add validates and queues requests; done, when not nil, receives each
// request's Result when it finishes.
func (e *Engine) add(reqs []*Request, done chan<- Result) {
	now := e.now()
	for _, r := range reqs {
		if r.Arrival.IsZero() {
			r.Arrival = now
		}
		seq := &Sequence{Req: r, Tokens: append([]int32(nil), r.Prompt...), NumPrompt: len(r.Prompt), order: e.nextOrder}
		e.nextOrder++
		seq.seed = r.Params.Seed
		if seq.seed == 0 {
			h := fnv.New64a()
			fmt.Fprintf(h, "%d/%s", e.cfg.Seed, r.ID)
			seq.seed = h.Sum64()
		}
		e.emit(&RequestEvent{Kind: EvArrived, ID: r.ID, Time: r.Arrival, PromptTokens: len(r.Prompt), Arrival: r.Arrival})
		if done != nil {
			e.waiters[seq] = done
		}
		if msg := e.inadmissible(seq); msg != "" {
			seq.Err = msg
			e.finish(seq, FinishRejected, now)
			continue
		}
		e.sched.Add(seq)
	}
}

func (e *Engine) emit(ev *RequestEvent) {
	e.flushTokens()
	for _, o := range e.obs {
		o.OnRequest(ev)
	}
}

// emitToken queues a token event; flushTokens hands the queued ones to the
// observers (a BatchObserver in one call), before any other event and at
// the end of a step, so the order observers see is the order of the step.
func (e *Engine) emitToken(ev RequestEvent) { e.tokenEvs = append(e.tokenEvs, ev) }

func (e *Engine) flushTokens() {
	if len(e.tokenEvs) == 0 {
		return
	}
	for _, o := range e.obs {
		if b, ok := o.(BatchObserver); ok {
			b.OnRequests(e.tokenEvs)
			continue
		}
		for i := range e.tokenEvs {
			o.OnRequest(&e.tokenEvs[i])
		}
	}
	clear(e.tokenEvs) // let go of the request IDs
	e.tokenEvs = e.tokenEvs[:0]
}

// finish ends seq with why (seq.Err holds the reason in words where there
// is one), tells the observers and hands its result to its waiter.
func (e *Engine) finish(seq *Sequence, why FinishReason, at time.Time) {
	seq.Finish, seq.FinishedAt, seq.State = why, at, Finished
	if seq.Err == "" {
		seq.Err = defaultReason(seq, why, e.maxModelLen)
	}
	mt := seq.Req.Params.MaxTokens
	e.emit(&RequestEvent{Kind: EvFinished, ID: seq.Req.ID, Time: at, PromptTokens: seq.NumPrompt,
		OutputTokens: seq.NumOutput(), Finish: why, MaxTokens: mt, Err: seq.Err, Arrival: seq.Req.Arrival})
	seq.Req.Stream.end(why, seq.Err) // after the observers: a consumer never sees the end first
	if ch, ok := e.waiters[seq]; ok {
		delete(e.waiters, seq)
		ch <- Result{ID: seq.Req.ID, Prompt: seq.Req.Prompt, Output: append([]int32(nil), seq.Output()...),
			MaxTokens: mt, Finish: why, Err: seq.Err, Arrival: seq.Req.Arrival, FirstToken: seq.FirstToken,
			FinishedAt: at, Preemptions: seq.Preemptions}
	}
}
