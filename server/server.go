package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"benchtop/engine"
	"benchtop/openai"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// ServedModelName is the model id clients name and /v1/models lists
	// (--served-model-name); default: the engine model's --model value as
	// given (a preset name or the folder's path, as vLLM does).
	ServedModelName string
	// MaxBodyBytes bounds a request body (default 8 MiB: a 128k-token
	// prompt as token ids fits).
	MaxBodyBytes int64
	// AbortTimeout bounds the abort of a disconnected client's request
	// (default 5 s).
	AbortTimeout time.Duration
}

// Server is the in-process engine behind the OpenAI-compatible API.
type Server struct {
	eng         *engine.Engine
	opts        Options
	name        string
	maxModelLen int
	vocab       int
	created     int64
	idPrefix    string
	nextID      atomic.Uint64
	metrics     *metrics
	mux         *http.ServeMux
}

// New builds the server over eng, whose Run loop the caller has started
// and owns; it attaches the server's metrics observer to the engine
// (between steps, so ctx bounds that wait). The engine's model and
// max_model_len are read once: a later Reconfigure of max_model_len is not
// seen by the server's length checks (the engine still rejects what no
// longer fits).
func New(ctx context.Context, eng *engine.Engine, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.AbortTimeout <= 0 {
		opts.AbortTimeout = 5 * time.Second
	}
	m := eng.Model()
	st := eng.Status()
	maxLen := m.Cfg.MaxPositions
	if l := st.Config.MaxModelLen; l > 0 && l < maxLen {
		maxLen = l
	}
	s := &Server{eng: eng, opts: opts, name: opts.ServedModelName, maxModelLen: maxLen, vocab: m.Cfg.VocabSize,
		created: time.Now().Unix()}
	if s.name == "" {
		s.name = m.Source
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s.idPrefix = hex.EncodeToString(b[:])
	s.metrics = newMetrics(s.name, maxLen)
	s.metrics.kvReader = func(ctx context.Context) (used, total int, err error) {
		err = eng.Exec(ctx, func() { used, total = eng.Blocks().NumUsed(), eng.Blocks().NumBlocks() })
		return used, total, err
	}
	if err := eng.AddObserver(ctx, s.metrics); err != nil {
		return nil, fmt.Errorf("attach the server's metrics to the engine: %w", err)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/v1/completions", s.post(s.completions))
	s.mux.HandleFunc("/v1/chat/completions", s.post(s.chat))
	s.mux.HandleFunc("/v1/models", s.get(s.models))
	s.mux.HandleFunc("/health", s.get(s.health))
	prom := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	s.mux.HandleFunc("/metrics", s.get(func(w http.ResponseWriter, r *http.Request) {
		s.metrics.refresh(r.Context())
		prom.ServeHTTP(w, r)
	}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "NotFoundError", msg: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	})
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ModelName is the served model id.
func (s *Server) ModelName() string { return s.name }

// DefaultAddr is where benchtop serve listens unless told otherwise (vLLM's
// port, on loopback only).
const DefaultAddr = "127.0.0.1:8000"

// NewHTTPServer wraps h for addr with the timeouts a long-lived streaming
// server wants: headers must come within 10 s, idle keep-alive connections
// close after 2 minutes, and responses have no write deadline (a stream
// lasts as long as its generation).
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

func (s *Server) post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "MethodNotAllowed", msg: r.Method + " " + r.URL.Path + ": use POST"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		h(w, r)
	}
}

func (s *Server) get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "MethodNotAllowed", msg: r.Method + " " + r.URL.Path + ": use GET"})
			return
		}
		h(w, r)
	}
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, openai.ModelList{Object: "list", Data: []openai.ModelCard{{ID: s.name, Object: "model",
		Created: s.created, OwnedBy: "benchtop", MaxModelLen: s.maxModelLen}}})
}

// health is 200 while the engine runs (or is paused), 503 once it stopped
// or failed, as vLLM's /health answers when its engine is dead.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	st := s.eng.Status()
	switch st.State {
	case engine.StateStopped, engine.StateFailed:
		msg := "the engine " + st.State.String()
		if st.Err != nil {
			msg += ": " + st.Err.Error()
		}
		writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "ServiceUnavailableError", msg: msg})
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, s.idPrefix, s.nextID.Add(1))
}
