package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// Server is the in-process engine — or N data-parallel replicas of it —
// behind the OpenAI-compatible API.
type Server struct {
	engs        []*engine.Engine
	inflight    []atomic.Int64 // requests each engine is serving
	turn        atomic.Uint64  // ties go in turn
	opts        Options
	name        string
	maxModelLen int
	vocab       int
	created     int64
	idPrefix    string
	nextID      atomic.Uint64
	reg         *prometheus.Registry
	metrics     []*metrics // one per engine, labelled engine="k"
	mux         *http.ServeMux
}

// New builds the server over eng, whose Run loop the caller has started
// and owns; it attaches the server's metrics observer to the engine
// (between steps, so ctx bounds that wait). The engine's model and
// max_model_len are read once: a later Reconfigure of max_model_len is not
// seen by the server's length checks (the engine still rejects what no
// longer fits).
func New(ctx context.Context, eng *engine.Engine, opts Options) (*Server, error) {
	return NewReplicas(ctx, []*engine.Engine{eng}, opts)
}

// NewReplicas is New over data-parallel replicas of one model (each engine
// on its own device goroutine): each request goes to the engine serving
// the fewest, and /metrics carries each engine's series with vLLM's
// engine="k" label, as vLLM's data-parallel front end exposes them.
func NewReplicas(ctx context.Context, engs []*engine.Engine, opts Options) (*Server, error) {
	if len(engs) == 0 {
		return nil, fmt.Errorf("serve: no engine")
	}
	eng := engs[0]
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
	s := &Server{engs: engs, inflight: make([]atomic.Int64, len(engs)), opts: opts, name: opts.ServedModelName,
		maxModelLen: maxLen, vocab: m.Cfg.VocabSize, created: time.Now().Unix(), reg: prometheus.NewRegistry()}
	if s.name == "" {
		s.name = m.Source
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s.idPrefix = hex.EncodeToString(b[:])
	for k, e := range engs {
		mt := newMetrics(s.reg, s.name, strconv.Itoa(k), maxLen)
		mt.kvReader = func(ctx context.Context) (used, total int, err error) {
			// Exec may run f after ctx ended and it returned: f writes only
			// to its own buffered channel.
			ch := make(chan [2]int, 1)
			if err := e.Exec(ctx, func() { ch <- [2]int{e.Blocks().NumUsed(), e.Blocks().NumBlocks()} }); err != nil {
				return 0, 0, err
			}
			select {
			case v := <-ch:
				return v[0], v[1], nil
			default:
				return 0, 0, ctx.Err()
			}
		}
		if err := e.AddObserver(ctx, mt); err != nil {
			return nil, fmt.Errorf("attach the server's metrics to engine %d: %w", k, err)
		}
		s.metrics = append(s.metrics, mt)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/v1/completions", s.post(s.completions))
	s.mux.HandleFunc("/v1/chat/completions", s.post(s.chat))
	s.mux.HandleFunc("/v1/models", s.get(s.models))
	s.mux.HandleFunc("/health", s.get(s.health))
	prom := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	s.mux.HandleFunc("/metrics", s.get(func(w http.ResponseWriter, r *http.Request) {
		for _, mt := range s.metrics {
			mt.refresh(r.Context())
		}
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

// health is 200 while every engine runs (or is paused), 503 once one
// stopped or failed, as vLLM's /health answers when an engine is dead.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	for k, e := range s.engs {
		st := e.Status()
		switch st.State {
		case engine.StateStopped, engine.StateFailed:
			msg := "the engine " + st.State.String()
			if len(s.engs) > 1 {
				msg = fmt.Sprintf("engine %d %s", k, st.State)
			}
			if st.Err != nil {
				msg += ": " + st.Err.Error()
			}
			writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "ServiceUnavailableError", msg: msg})
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// pick is the engine serving the fewest requests (ties in turn); the
// caller releases it with done.
func (s *Server) pick() (k int, done func()) {
	n := len(s.engs)
	start := int(s.turn.Add(1)-1) % n
	k = start
	for i := 1; i < n; i++ {
		j := (start + i) % n
		if s.inflight[j].Load() < s.inflight[k].Load() {
			k = j
		}
	}
	s.inflight[k].Add(1)
	return k, func() { s.inflight[k].Add(-1) }
}

func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, s.idPrefix, s.nextID.Add(1))
}
