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
	Finish       FinishReason
	Arrival      time.Time
}

// StepEvent describes one engine step.
type StepEvent struct {
	Index         int64         `json:"index"`
	Start         time.Time     `json:"start"`
	PrefillTokens int           `json:"prefill_tokens"`
	DecodeTokens  int           `json:"decode_tokens"`
	NumSeqs       int           `json:"num_seqs"`       // sequences in the step
	ContextTokens int           `json:"context_tokens"` // Σ context length over the step's sequences: the KV attention reads
	MaxNumSeqs    int           `json:"max_num_seqs"`
	KVBlocksUsed  int           `json:"kv_blocks_used"`
	KVBlocksTotal int           `json:"kv_blocks_total"`
	NumRunning    int           `json:"num_running"`
	NumWaiting    int           `json:"num_waiting"`
	Preemptions   int           `json:"preemptions"` // in this step
	ScheduleTime  time.Duration `json:"schedule_ns"`
	ExecuteTime   time.Duration `json:"execute_ns"` // host time of the forward pass
	SampleTime    time.Duration `json:"sample_ns"`
	DeviceTime    time.Duration `json:"device_ns"` // device time of the step, where the backend measures it
	Total         time.Duration `json:"total_ns"`
}

// Observer receives the engine's events on the engine goroutine. It must not
// block: aggregate, or hand off without waiting.
type Observer interface {
	OnStep(ev *StepEvent)
	OnRequest(ev *RequestEvent)
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
