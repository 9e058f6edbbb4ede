// Package servertest starts `benchtop serve` for tests of its clients: the
// server's handler over a real engine (the tiny preset, seeded synthetic
// weights, on the CPU backend) on a loopback listener, as net/http/httptest
// starts a handler. Everything it starts is stopped by the test's cleanup.
package servertest

import (
	"context"
	"net"
	"net/http"
	"testing"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/kernels/cpu"
	"benchtop/server"
)

// Server is a running `benchtop serve` on loopback.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	http *http.Server
}

// Start serves the tiny model under cfg (256 MiB of CPU memory for its KV
// pool) until the test ends; a failure to start fails the test.
func Start(t testing.TB, cfg engine.Config) *Server {
	t.Helper()
	be := cpu.New(256 << 20)
	m, err := model.Open("tiny", be, model.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(be, m, cfg)
	if err != nil {
		m.Free(be)
		be.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	stop := func() {
		cancel()
		<-done
		e.Close()
		m.Free(be)
		be.Close()
	}
	srv, err := server.New(context.Background(), e, server.Options{})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	hs := server.NewHTTPServer(ln.Addr().String(), srv)
	go hs.Serve(ln)
	t.Cleanup(func() {
		hs.Close()
		stop()
	})
	return &Server{URL: "http://" + ln.Addr().String(), http: hs}
}

// Kill closes the listener and every connection, as a server process that
// dies does; the engine stops with the test.
func (s *Server) Kill() { s.http.Close() }
