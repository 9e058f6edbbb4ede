package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/kernels/cpu"
	"benchtop/openai"
)

const maxModelLen = 1024

// rig is a real engine (tiny preset, CPU backend) running on its own
// goroutine, with the server over it on a loopback listener.
type rig struct {
	eng  *engine.Engine
	srv  *Server
	http *httptest.Server
	stop func()
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	eng, stop := startEngine(t)
	srv, err := New(context.Background(), eng, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close) // before the engine stops: cleanups run last first
	return &rig{eng: eng, srv: srv, http: hs, stop: stop}
}

// startEngine runs a real engine (tiny preset, CPU backend, 16 sequences,
// 512 batched tokens, maxModelLen) on its own goroutine until stop, which
// the test's cleanup calls too; Run ending in an error fails the test.
func startEngine(t *testing.T) (eng *engine.Engine, stop func()) {
	t.Helper()
	be := cpu.New(256 << 20)
	m, err := model.Open("tiny", be, model.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.MaxNumSeqs, cfg.MaxNumBatchedTokens, cfg.MaxModelLen = 16, 512, maxModelLen
	eng, err = engine.New(be, m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() {
		stop()
		eng.Close()
		m.Free(be)
		be.Close()
	})
	return eng, stop
}

// post sends a JSON body and returns the status and body.
func (r *rig) post(t *testing.T, path, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(r.http.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (r *rig) client(t *testing.T, api openai.API, mod func(*openai.Options)) *openai.Client {
	t.Helper()
	o := openai.Options{BaseURL: r.http.URL, API: api}
	if mod != nil {
		mod(&o)
	}
	c, err := openai.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if _, err := c.ResolveModel(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// eventually polls ok until it holds; the 30 s deadline only bounds a hang
// (a loaded machine takes longer, never that long).
func eventually(t *testing.T, ok func() bool, failed func()) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			failed()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// engineState reads the engine's used KV blocks and whether it has work.
func (r *rig) engineState(t *testing.T) (used int, work bool) {
	t.Helper()
	if err := r.eng.Exec(context.Background(), func() { used, work = r.eng.Blocks().NumUsed(), r.eng.HasWork() }); err != nil {
		t.Fatal(err)
	}
	return used, work
}

// idle waits until the engine holds no sequence and no KV block.
func (r *rig) idle(t *testing.T) {
	t.Helper()
	var used int
	var work bool
	eventually(t, func() bool { used, work = r.engineState(t); return used == 0 && !work },
		func() { t.Fatalf("the engine still holds %d blocks (work %v)", used, work) })
}
