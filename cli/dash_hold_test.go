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
// armed Sample holds its step until released, or for HoldFor at most.
type holdBackend struct {
	kernels.Backend
	armed   atomic.Bool
	held    chan struct{} // closed when a step is held
	release chan struct{}
}

// HoldFor bounds how long a held step waits (only a hang: the test
// releases it).
const HoldFor = 120 * time.Second

func (h *holdBackend) Sample(logits kernels.Tensor, p []kernels.SampleParams) ([]int32, error) {
	if h.armed.CompareAndSwap(true, false) {
		close(h.held)
		select {
		case <-h.release:
		case <-time.After(HoldFor):
		}
	}
	return h.Backend.Sample(logits, p)
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
// gives the screen back while the step is still held, the exit snapshot is written
// while the step is still held, closing says it is finishing the step, and
// a second SIGINT kills.
func TestQuitDuringAHeldStep(t *testing.T) {
	hb := &holdBackend{held: make(chan struct{}), release: make(chan struct{})}
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
	heldAt := time.Now()

	m := tui.New(s)
	var out bytes.Buffer
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(&out), tea.WithWindowSize(100, 30))
	var quitAt time.Time
	go func() {
		// The frame's clock keeps moving while the step is held: wait for
		// it to pass a second (a frozen clock never does; the deadline only
		// bounds that hang on a loaded machine).
		f1 := s.Frame()
		f2 := f1
		for deadline := time.Now().Add(30 * time.Second); f2.Time.Sub(f1.Time) < time.Second || f2.Progress.For(f2.Time) < time.Second; f2 = s.Frame() {
			if time.Now().After(deadline) {
				t.Errorf("in 30 s of a held step the frame's clock moved %s, its step in progress %+v", f2.Time.Sub(f1.Time), f2.Progress)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !f2.Progress.InStep {
			t.Errorf("no step in progress in the frame: %+v", f2.Progress)
		}
		quitAt = time.Now()
		p.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	}()
	// The step stays held until the test releases it, so p.Run returning
	// at all shows that q does not wait for it; the bound is generous for
	// a loaded machine and still far below a step's hold.
	final, err := p.Run()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(quitAt); d > 10*time.Second {
		t.Fatalf("q took %s with a step held", d)
	}
	if head := ansi.Strip(strings.Split(final.(tui.Model).Render(), "\n")[0]); !strings.Contains(head, "step in progress for") {
		t.Errorf("the header does not show the step in progress: %q", head)
	}

	// Leaving: the snapshot does not wait for the step; closing does, and
	// says so; a second SIGINT kills.
	dir := t.TempDir()
	stderr := &syncBuffer{}
	e := &env{stdout: &bytes.Buffer{}, stderr: stderr}
	killed := make(chan int, 1)
	var snapsAtKill []string
	killProcess = func(code int) {
		snapsAtKill, _ = filepath.Glob(filepath.Join(dir, "benchtop-snapshot-*"))
		killed <- code
		release() // the test's process goes on: let the step finish
	}
	defer func() { killProcess = defaultKill }()
	go func() {
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(stderr.String(), "finishing the current step") {
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
		t.Fatalf("a second SIGINT did not kill; stderr: %s", stderr.String())
	}
	if len(snapsAtKill) != 3 || len(files) != 3 {
		t.Fatalf("snapshot files while the step was held: %v (written: %v)", snapsAtKill, files)
	}
	if msg := stderr.String(); !strings.Contains(msg, "finishing the current step…") || !strings.Contains(msg, "killed without finishing the step") {
		t.Fatalf("stderr: %s", msg)
	}
	if time.Since(heldAt) > HoldFor+2*time.Second {
		t.Logf("the held step ended by its own bound (%s)", time.Since(heldAt))
	}
}
