package engine

import "time"

// RequestEventKind names a moment in a request's life.
type RequestEventKind int

const (
	EvArrived RequestEventKind = iota
	EvScheduled
	EvFirstToken
	EvToken
	EvFinished
	EvPreempted
)

// RequestEvent is one moment of one request.
type RequestEvent struct {
	Kind         RequestEventKind
	ID           string
	Time         time.Time
	PromptTokens int
	OutputTokens int // after this event
	Arrival      time.Time
	// On EvFinished: why, the tokens asked (OutputTokens are those given) and,
	// for max_model_len, rejected and aborted, the reason in words.
	Finish    FinishReason
	MaxTokens int
	Err       string
}

// StepEvent describes one engine step.
type StepEvent struct {
	Index         int64
	Start         time.Time
	PrefillTokens int
	DecodeTokens  int
	NumSeqs       int // sequences in the step
	ContextTokens int // Σ context length over the step's sequences: the KV attention reads
	MaxNumSeqs    int
	KVBlocksUsed  int
	KVBlocksTotal int
	NumRunning    int
	NumWaiting    int
	Preemptions   int // in this step
	ScheduleTime  time.Duration
	ExecuteTime   time.Duration // host time of the forward pass
	SampleTime    time.Duration
	DeviceTime    time.Duration // device time of the step, where the backend measures it
	Total         time.Duration
}

// Observer receives the engine's events on the engine goroutine. It must not
// block: aggregate, or hand off without waiting.
type Observer interface {
	OnStep(ev *StepEvent)
	OnRequest(ev *RequestEvent)
}

// BatchObserver is an optional Observer extension that takes a step's token
// events (EvFirstToken, EvToken) in one call, in order, instead of one
// OnRequest each: one hand-off a step instead of one a sequence. evs is only
// valid during the call. Every other event still arrives through OnRequest,
// after the token events that came before it.
type BatchObserver interface {
	OnRequests(evs []RequestEvent)
}

// ConfigEvent reports a configuration change, for markers on charts.
type ConfigEvent struct {
	Time   time.Time
	Config Config
	What   string
}

// ConfigObserver is an optional Observer extension told of config changes.
type ConfigObserver interface {
	OnConfig(ev *ConfigEvent)
}
