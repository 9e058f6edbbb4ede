package cuda

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"benchtop/kernels"
)

// The kernel profile: with BENCHTOP_PROFILE_KERNELS set, decode steps run
// eagerly (Graph runs its step instead of replaying a capture), every
// enqueued operation — our kernels, cuBLAS calls, metadata copies — is
// bracketed by a pair of CUDA events and timed on the host too, and the
// times are summed per operation name for each kind of step (prefill of n
// tokens, decode of n sequences). Close prints the table to stderr, or to
// the file the variable names when it is not "1". Steps are those the
// engine times (between MarkStart and MarkEnd): start-up captures and
// tuning stay out.
//
// BENCHTOP_CUPROFILE=KIND,SEQS,SKIP,COUNT wraps COUNT steps of KIND
// (decode or prefill) with SEQS real sequences (0: any), after skipping
// SKIP such steps, in cuProfilerStart/cuProfilerStop, so `ncu
// --profile-from-start off` profiles exactly those steps (graph replays
// included: ncu profiles a graph's kernels one by one).
const (
	profileEnv   = "BENCHTOP_PROFILE_KERNELS"
	cuProfileEnv = "BENCHTOP_CUPROFILE"
)

// profOp is one timed operation of the open step.
type profOp struct {
	name   string
	ev0    int // index of the start event in the pool
	hostNs int64
}

type profKey struct {
	kind         string // decode, prefill, mixed
	seqs, tokens int
}

type profStat struct {
	launches        int
	deviceUs, hostU float64
}

type profGroup struct {
	steps           int
	hostUs, devSum  float64 // host MarkStart→MarkEnd, Σ operation events
	stepDevUs       float64 // MarkStart→MarkEnd device time as the engine reads it
	ops             map[string]*profStat
	firstHostUs     float64 // the group's first step (first-use costs show here)
	firstStepDevSum float64
}

// profiler is the kernel profile's state (nil when off).
type profiler struct {
	d       *driver
	stream  uintptr
	events  []uintptr // pool, two per operation
	used    int
	open    bool // a step is being timed (after MarkStart)
	key     profKey
	keySet  bool
	start   time.Time
	ops     []profOp
	groups  map[profKey]*profGroup
	out     string
	pending int // index into ops of an operation begun and not ended
}

func newProfiler(d *driver, stream uintptr) *profiler {
	v := os.Getenv(profileEnv)
	if v == "" || v == "0" {
		return nil
	}
	return &profiler{d: d, stream: stream, groups: map[profKey]*profGroup{}, out: v, pending: -1}
}

// event returns the pool's next event, creating it when the pool is short.
func (p *profiler) event() (uintptr, int, error) {
	if p.used == len(p.events) {
		var e uintptr
		if err := p.d.check(p.d.cuEventCreate(&e, 0), "cuEventCreate (profile)"); err != nil {
			return 0, 0, err
		}
		p.events = append(p.events, e)
	}
	p.used++
	return p.events[p.used-1], p.used - 1, nil
}

// begin records the start of an operation; end must follow it.
func (p *profiler) begin(name string) {
	if !p.open {
		return
	}
	e, i, err := p.event()
	if err != nil {
		return
	}
	p.d.cuEventRecord(e, p.stream)
	p.ops = append(p.ops, profOp{name: name, ev0: i, hostNs: time.Now().UnixNano()})
	p.pending = len(p.ops) - 1
}

func (p *profiler) end() {
	if !p.open || p.pending < 0 {
		return
	}
	e, _, err := p.event()
	if err != nil {
		return
	}
	p.d.cuEventRecord(e, p.stream)
	op := &p.ops[p.pending]
	op.hostNs = time.Now().UnixNano() - op.hostNs
	p.pending = -1
}

// stepKey names a step's kind from its batch.
func stepKey(bt *kernels.Batch) profKey {
	l := layoutOf(bt)
	k := profKey{seqs: len(bt.Seqs), tokens: len(bt.Tokens)}
	if bt.NumReal > 0 {
		k.seqs, k.tokens = bt.NumReal, bt.NumReal
	}
	switch {
	case l.decode && l.prefill:
		k.kind = "mixed"
	case l.prefill:
		k.kind = "prefill"
	default:
		k.kind = "decode"
		k.tokens = k.seqs
	}
	return k
}

func (p *profiler) markStart() {
	p.open, p.keySet, p.used, p.ops, p.pending = true, false, 0, p.ops[:0], -1
	p.start = time.Now()
}

func (p *profiler) setBatch(bt *kernels.Batch) {
	if p.open && !p.keySet {
		p.key, p.keySet = stepKey(bt), true
	}
}

// markEnd closes the step (the engine has waited for the device) and adds
// its operations to its group.
func (p *profiler) markEnd(stepDevMs float64) {
	if !p.open {
		return
	}
	p.open = false
	if !p.keySet {
		return
	}
	host := float64(time.Since(p.start).Nanoseconds()) / 1e3
	g := p.groups[p.key]
	if g == nil {
		g = &profGroup{ops: map[string]*profStat{}, firstHostUs: host}
		p.groups[p.key] = g
	}
	g.steps++
	g.hostUs += host
	g.stepDevUs += stepDevMs * 1e3
	var sum float64
	for _, op := range p.ops {
		if op.ev0+1 >= p.used {
			continue
		}
		var ms float32
		if p.d.cuEventElapsedTime(&ms, p.events[op.ev0], p.events[op.ev0+1]) != 0 {
			continue
		}
		s := g.ops[op.name]
		if s == nil {
			s = &profStat{}
			g.ops[op.name] = s
		}
		s.launches++
		s.deviceUs += float64(ms) * 1e3
		s.hostU += float64(op.hostNs) / 1e3
		sum += float64(ms) * 1e3
	}
	if g.steps == 1 {
		g.firstStepDevSum = sum
	}
	g.devSum += sum
}

// write prints the profile table, groups by kind then size.
func (p *profiler) write(w io.Writer) {
	keys := make([]profKey, 0, len(p.groups))
	for k := range p.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b profKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.seqs, b.seqs), cmp.Compare(a.tokens, b.tokens))
	})
	fmt.Fprintf(w, "\n## Kernel profile (%s): eager steps, each operation between two CUDA events\n", profileEnv)
	for _, k := range keys {
		g := p.groups[k]
		n := float64(g.steps)
		fmt.Fprintf(w, "\n### %s: %d sequences, %d tokens — %d steps\n", k.kind, k.seqs, k.tokens, g.steps)
		fmt.Fprintf(w, "host µs/step %.1f (first step %.1f) | device µs/step (MarkStart→MarkEnd) %.1f | Σ operations µs/step %.1f (first step %.1f)\n\n",
			g.hostUs/n, g.firstHostUs, g.stepDevUs/n, g.devSum/n, g.firstStepDevSum)
		fmt.Fprintf(w, "| operation | launches/step | device µs/step | µs/launch | host µs/launch | share |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
		names := make([]string, 0, len(g.ops))
		for name := range g.ops {
			names = append(names, name)
		}
		slices.SortFunc(names, func(a, b string) int { return cmp.Compare(g.ops[b].deviceUs, g.ops[a].deviceUs) })
		for _, name := range names {
			s := g.ops[name]
			share := 0.0
			if g.devSum > 0 {
				share = 100 * s.deviceUs / g.devSum
			}
			fmt.Fprintf(w, "| %s | %.1f | %.2f | %.2f | %.2f | %.1f%% |\n", name, float64(s.launches)/n, s.deviceUs/n,
				s.deviceUs/float64(s.launches), s.hostU/float64(s.launches), share)
		}
	}
}

// report writes the table where BENCHTOP_PROFILE_KERNELS says.
func (p *profiler) report() {
	if len(p.groups) == 0 {
		return
	}
	if p.out == "1" {
		p.write(os.Stderr)
		return
	}
	f, err := os.Create(p.out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtop: kernel profile: %v\n", err)
		p.write(os.Stderr)
		return
	}
	p.write(f)
	f.Close()
}

func (p *profiler) free() {
	for _, e := range p.events {
		p.d.cuEventDestroy(e)
	}
	p.events = nil
}

// cuWindow is one of BENCHTOP_CUPROFILE's windows of steps.
type cuWindow struct {
	kind              string
	seqs, skip, count int
	seen, done        int
	on                bool
}

// cuWindows are BENCHTOP_CUPROFILE's windows, KIND,SEQS,SKIP,COUNT each,
// separated by ";"; at most one is open at a time.
type cuWindows []*cuWindow

func parseCUWindows(s string) (cuWindows, error) {
	var ws cuWindows
	for _, part := range strings.Split(s, ";") {
		w, err := parseCUWindow(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

func parseCUWindow(s string) (*cuWindow, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 || (f[0] != "decode" && f[0] != "prefill") {
		return nil, fmt.Errorf("%s=%q: want KIND,SEQS,SKIP,COUNT with KIND decode or prefill", cuProfileEnv, s)
	}
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(f[i+1])
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%s=%q: %q is not a count", cuProfileEnv, s, f[i+1])
		}
		n[i] = v
	}
	return &cuWindow{kind: f[0], seqs: n[0], skip: n[1], count: max(n[2], 1)}, nil
}

func (ws cuWindows) open() *cuWindow {
	for _, w := range ws {
		if w.on {
			return w
		}
	}
	return nil
}

// cuWindowBegins starts the profiler at the first step of a window.
func (b *Backend) cuWindowBegins(bt *kernels.Batch) {
	if len(b.cuWin) == 0 || b.capture || b.cuWin.open() != nil || b.d.cuProfilerStart == nil {
		return
	}
	k := stepKey(bt)
	for _, w := range b.cuWin {
		if w.done >= w.count || k.kind != w.kind || (w.seqs > 0 && k.seqs != w.seqs) {
			continue
		}
		w.seen++
		if w.seen > w.skip && b.d.cuProfilerStart() == 0 {
			w.on = true
			return
		}
	}
}

// cuWindowEnds counts a finished step and stops the profiler after a
// window's last.
func (b *Backend) cuWindowEnds() {
	w := b.cuWin.open()
	if w == nil {
		return
	}
	w.done++
	if w.done >= w.count {
		b.d.cuProfilerStop()
		w.on = false
	}
}

// profBegin and profEnd bracket an operation that is not a kernel launch
// (cuBLAS, copies) for the kernel profile.
func (b *Backend) profBegin(name string) {
	if b.prof != nil && !b.capture {
		b.prof.begin(name)
	}
}

// profGemm brackets a cuBLAS GEMM of m×n×k (rows × outputs × inputs).
func (b *Backend) profGemm(m, n, k int) {
	if b.prof != nil && !b.capture {
		b.prof.begin(fmt.Sprintf("cublasGemmEx %dx%dx%d", m, n, k))
	}
}

func (b *Backend) profEnd() {
	if b.prof != nil && !b.capture {
		b.prof.end()
	}
}
