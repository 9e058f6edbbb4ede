package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"benchtop/server"
	"benchtop/session"
)

// ServeCmd is the in-process engine (or N data-parallel replicas of it) as
// an OpenAI-compatible server.
type ServeCmd struct {
	EngineFlags     `embed:""`
	Host            string `default:"127.0.0.1" help:"address to listen on (loopback by default; 0.0.0.0 for every interface)"`
	Port            int    `default:"8000" help:"port to listen on"`
	ServedModelName string `placeholder:"NAME" help:"the model id clients name and /v1/models lists (default: the --model value as given)"`
}

func (c *ServeCmd) Run(e *env) error {
	if err := c.refuseIgnored("serve",
		ignored{"json", "its clients' requests are counted in /metrics: benchtop metrics URL --json"},
		ignored{"requests", "clients send the requests; benchtop run --target drives it"}); err != nil {
		return err
	}
	if err := c.EngineFlags.check(); err != nil {
		return err
	}
	if len(c.Target) > 0 {
		return errors.New("serve serves the in-process engine: --target is for the commands that drive a server")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("--port %d: must be between 0 and 65535", c.Port)
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	ln, err := net.Listen("tcp", addr) // before the model loads: a port in use fails at once
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer ln.Close()
	ctx, stop := e.context()
	defer stop()
	opts := c.options(e)
	opts.Progress = false
	s, err := session.Open(opts)
	if err != nil {
		return e.interrupted(err)
	}
	srv, err := server.NewReplicas(ctx, s.Engines(), server.Options{ServedModelName: c.ServedModelName})
	if err != nil {
		s.Close()
		return e.interrupted(err)
	}
	hs := server.NewHTTPServer(addr, srv)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	engines := ""
	if n := len(s.Engines()); n > 1 {
		engines = fmt.Sprintf(" (%d engines, engine=\"0\"..\"%d\" in /metrics)", n, n-1)
	}
	fmt.Fprintf(e.stderr, "benchtop: serving %s on http://%s%s: /v1/completions, /v1/chat/completions, /v1/models, /health, /metrics\n",
		srv.ModelName(), ln.Addr(), engines)
	if !c.Quiet {
		go serveProgress(ctx, s, e)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	// Streams in flight get a moment to end; then every connection closes
	// (their requests are aborted) before the engines stop.
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	cancel()
	closeErr := s.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return e.interrupted(closeErr)
}

// serveProgress prints a status line every ten seconds while requests come.
func serveProgress(ctx context.Context, s *session.Session, e *env) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	last := -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m := s.Frame().Metrics
		if m == nil || m.Finished == last && m.Running == 0 && m.Waiting == 0 {
			continue
		}
		last = m.Finished
		fmt.Fprintf(e.stderr, "benchtop serve: %d running, %d waiting, %d finished, %.0f output tok/s (last %s)\n",
			m.Running, m.Waiting, m.Finished, m.OutputTPS, m.Window.Round(time.Second))
	}
}
