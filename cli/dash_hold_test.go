package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"benchtop/engine"
	"benchtop/kernels"
	"benchtop/session"
	"benchtop/tui"
	"benchtop/workloads"
)

// holdBackend is the CPU backend with one op that can be made to block: an
// armed Sample holds its step until released (or for HoldFor at most, so
// that a broken test cannot hang the package).
type holdBackend struct {
	kernels.Backend
	armed    atomic.Bool
	held     chan struct{} // closed when a step is held
	release  chan struct{}
	returned chan struct{} // closed when the held step goes on
}

// HoldFor bounds how long a held step waits: far longer than anything the
// test waits for while the step is held, on any machine.
const HoldFor = 2 * time.Minute

func (h *holdBackend) Sample(logits kernels.Tensor, p []kernels.SampleParams) ([]int32, error) {
	if h.armed.CompareAndSwap(true, false) {
		close(h.held)
		select {
		case <-h.release:
		case <-time.After(HoldFor):
		}
		close(h.returned)
	}
	return h.Backend.Sample(logits, p)
}

// stillHeld says whether the held step has not gone on yet.
func (h *holdBackend) stillHeld() bool {
	select {
	case <-h.returned:
		return false
	default:
		return true
	}
}

// watched is the dashboard with its header as Update last left it, for the
// test to wait on what the screen shows (Render runs on the program's
// goroutine, as View does).
type watched struct {
	tea.Model
	header *syncBuffer
}

func (w watched) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := w.Model.Update(msg)
	w.Model = m
	if tm, ok := m.(tui.Model); ok {
		head := ansi.Strip(strings.Split(tm.Render(), "\n")[0])
		w.header.mu.Lock()
		w.header.b.Reset()
		w.header.b.WriteString(head)
		w.header.mu.Unlock()
	}
	return w, cmd
}

// syncBuffer is a bytes.Buffer safe across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The dashboard never waits on the engine: with a step held in the
// backend, the clock and the step-in-progress indicator keep moving, q
// gives the screen back while the step is still held, the exit snapshot is
// written while the step is still held, closing says it is finishing the
// step, and a second SIGINT kills. Every check waits on the event itself
// (the step is held until the test releases it), so no machine is too slow
// for it.
func TestQuitDuringAHeldStep(t *testing.T) {
	hb := &holdBackend{held: make(chan struct{}), release: make(chan struct{}), returned: make(chan struct{})}
	cfg := engine.DefaultConfig()
	cfg.MaxNumBatchedTokens = 512
	s, err := session.Open(session.Options{Model: "tiny", Device: "cpu", CPUMemoryBytes: 1 << 28, Engine: cfg,
		WrapBackend: func(b kernels.Backend) kernels.Backend { hb.Backend = b; return hb }})
	if err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			close(hb.release)
		}
	}
	closed := false
	defer func() {
		release()
		if !closed {
			s.Close()
		}
	}()
	w, _ := workloads.Lookup("bench")
	if err := s.Start(w.WithCount(4)); err != nil {
		t.Fatal(err)
	}
	hb.armed.Store(true)
	select {
	case <-hb.held:
	case <-time.After(60 * time.Second):
		t.Fatal("no step reached the backend")
	}

	header := &syncBuffer{}
	var out bytes.Buffer
	p := tea.NewProgram(watched{tui.New(s), header}, tea.WithInput(nil), tea.WithOutput(&out), tea.WithWindowSize(100, 30))
	var quitAt time.Time
	go func() {
		// The frame's clock and the step in progress move while the step
		// is held: wait for a frame a second past the first, showing a step
		// in progress for a second, and for the screen's header to say so
		// (the 60 s bound only ends a frozen clock).
		f1 := s.Frame()
		deadline := time.Now().Add(60 * time.Second)
		for {
			f2 := s.Frame()
			if f2.Time.Sub(f1.Time) >= time.Second && f2.Progress.InStep && f2.Progress.For(f2.Time) >= time.Second &&
				strings.Contains(header.String(), "step in progress for") {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("in 60 s of a held step the frame's clock moved %s; progress %+v; header %q", f2.Time.Sub(f1.Time), f2.Progress, header.String())
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		quitAt = time.Now()
		p.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	}()
	final, err := p.Run()
	if err != nil {
		t.Fatal(err)
	}
	// q waited for nothing: the screen came back with the step still held.
	if !hb.stillHeld() {
		t.Fatalf("q gave the screen back only after the held step went on (%s)", time.Since(quitAt))
	}
	t.Logf("q gave the screen back in %s with a step held", time.Since(quitAt))
	if head := ansi.Strip(strings.Split(final.(watched).Model.(tui.Model).Render(), "\n")[0]); !strings.Contains(head, "step in progress for") {
		t.Errorf("the header does not show the step in progress: %q", head)
	}

	// Leaving: the snapshot does not wait for the step; closing does, and
	// says so; a second SIGINT kills.
	dir := t.TempDir()
	snapshots := func() []string { m, _ := filepath.Glob(filepath.Join(dir, "benchtop-snapshot-*")); return m }
	stderr := &syncBuffer{}
	e := &env{stdout: &bytes.Buffer{}, stderr: stderr}
	killed := make(chan int, 1)
	var snapsAtKill []string
	var heldAtKill bool
	killProcess = func(code int) {
		snapsAtKill, heldAtKill = snapshots(), hb.stillHeld()
		killed <- code
		release() // the test's process goes on: let the step finish
	}
	defer func() { killProcess = defaultKill }()
	go func() {
		// The second SIGINT comes once closing has said it is finishing the
		// step and the snapshot set is whole, both with the step held; a
		// snapshot that waited for the step never comes (then the step is
		// released after 60 s and no SIGINT is sent: the test fails below).
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(stderr.String(), "finishing the current step") || len(snapshots()) < 3 {
			if time.Now().After(deadline) {
				release()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	}()
	files, snapErr, closeErr := leave(e, s, dir, true)
	closed = true
	if snapErr != nil || closeErr != nil {
		t.Fatalf("snapshot: %v; close: %v", snapErr, closeErr)
	}
	select {
	case code := <-killed:
		if code != 130 {
			t.Fatalf("killed with %d", code)
		}
	default:
		t.Fatalf("a second SIGINT did not kill (the snapshot or the note waited for the step); stderr: %s", stderr.String())
	}
	if len(snapsAtKill) != 3 || len(files) != 3 || !heldAtKill {
		t.Fatalf("snapshot files while the step was held (%v): %v (written: %v)", heldAtKill, snapsAtKill, files)
	}
	if msg := stderr.String(); !strings.Contains(msg, "finishing the current step…") || !strings.Contains(msg, "killed without finishing the step") {
		t.Fatalf("stderr: %s", msg)
	}
}
