package engine

import (
	"fmt"
	"time"
)

// SamplingParams are a request's sampling settings, as in vLLM.
// Temperature 0 is greedy; TopK 0 and TopP 0 or 1 disable those filters.
// Seed 0 means "derive one from the engine seed and the request id".
type SamplingParams struct {
	Temperature float32
	TopP        float32
	TopK        int
	Seed        uint64
	MaxTokens   int
	IgnoreEOS   bool
	StopTokens  []int32
}

// Validate rejects settings no sampler can honour.
func (p *SamplingParams) Validate() error {
	switch {
	case p.Temperature < 0:
		return fmt.Errorf("temperature %g is negative", p.Temperature)
	case p.TopP < 0 || p.TopP > 1:
		return fmt.Errorf("top_p %g is outside [0, 1]", p.TopP)
	case p.TopK < 0:
		return fmt.Errorf("top_k %d is negative", p.TopK)
	case p.MaxTokens < 1:
		return fmt.Errorf("max_tokens %d is below 1", p.MaxTokens)
	}
	return nil
}

// Request is one generation request.
type Request struct {
	ID      string
	Prompt  []int32
	Params  SamplingParams
	Arrival time.Time // set by the engine on submission when zero
	// Stream, when set, receives the output tokens as they are sampled
	// and the finish reason (see TokenStream).
	Stream *TokenStream
}

// SeqState is where a sequence is in its life, as in vLLM.
type SeqState int

const (
	Waiting SeqState = iota
	Running
	Preempted
	Finished
)

func (s SeqState) String() string {
	return [...]string{"waiting", "running", "preempted", "finished"}[s]
}

// FinishReason says why a sequence stopped.
type FinishReason int

const (
	NotFinished       FinishReason = iota
	FinishLength                   // max_tokens reached
	FinishEOS                      // end-of-sequence token
	FinishStop                     // a stop token
	FinishMaxModelLen              // the context is full
	FinishRejected                 // could never fit (too long for the model or the KV pool)
	FinishAborted                  // the engine stopped first
)

func (f FinishReason) String() string {
	return [...]string{"", "length", "eos", "stop", "max_model_len", "rejected", "aborted"}[f]
}

// Sequence is a request's state inside the engine. NumComputed catches up
// with len(Tokens): a prefill chunk or a decode step just schedules some of
// the difference.
type Sequence struct {
	Req         *Request
	Tokens      []int32 // prompt then output
	NumPrompt   int
	NumComputed int // tokens whose K and V are in the cache
	State       SeqState
	Finish      FinishReason
	Err         string // why it was rejected
	Blocks      []int32
	Preemptions int
	seed        uint64
	order       uint64 // arrival order, for FCFS
	FirstToken  time.Time
	FinishedAt  time.Time
}

// NumOutput is the number of generated tokens.
func (s *Sequence) NumOutput() int { return len(s.Tokens) - s.NumPrompt }

// Output returns the generated tokens.
func (s *Sequence) Output() []int32 { return s.Tokens[s.NumPrompt:] }

// Result is what a finished request returns.
type Result struct {
	ID          string
	Prompt      []int32
	Output      []int32
	Finish      FinishReason
	Err         string
	Arrival     time.Time
	FirstToken  time.Time
	FinishedAt  time.Time
	Preemptions int
}
