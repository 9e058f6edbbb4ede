package engine

import "sync"

// TokenStream carries one request's output tokens from the engine goroutine
// to one consumer (an HTTP handler streaming them, say) without ever
// blocking a step: the engine appends under a short lock and signals
// Ready without waiting; a consumer that falls behind gets several tokens
// in one Take, as vLLM's output collector merges the deltas of a slow
// client. Set Request.Stream before submitting; nil means no stream.
type TokenStream struct {
	mu     sync.Mutex
	tokens []int32
	finish FinishReason
	err    string
	done   bool
	ready  chan struct{} // holds one pending signal at most
}

// StreamUpdate is what a Take hands over.
type StreamUpdate struct {
	Tokens []int32      // the tokens produced since the last Take, in order
	Finish FinishReason // NotFinished until the request ends
	Err    string       // why it was rejected or aborted, if it says
	Done   bool         // the request ended: no update follows
}

// NewTokenStream returns an empty stream.
func NewTokenStream() *TokenStream { return &TokenStream{ready: make(chan struct{}, 1)} }

// Ready receives a value when there is something new to Take.
func (s *TokenStream) Ready() <-chan struct{} { return s.ready }

// Take returns everything produced since the last Take. Safe from any
// goroutine; once it returned Done, the stream stays done.
func (s *TokenStream) Take() StreamUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := StreamUpdate{Tokens: s.tokens, Finish: s.finish, Err: s.err, Done: s.done}
	s.tokens = nil
	return u
}

// push appends one token (engine goroutine).
func (s *TokenStream) push(tok int32) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.tokens = append(s.tokens, tok)
	s.mu.Unlock()
	s.signal()
}

// end marks the request finished (engine goroutine).
func (s *TokenStream) end(why FinishReason, err string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if !s.done {
		s.finish, s.err, s.done = why, err, true
	}
	s.mu.Unlock()
	s.signal()
}

func (s *TokenStream) signal() {
	select {
	case s.ready <- struct{}{}:
	default: // a signal is already pending: the consumer will see this too
	}
}
