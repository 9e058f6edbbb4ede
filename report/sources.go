package report

import (
	"time"

	"benchtop/servermetrics"
)

// Source is one replica's or remote target's row: what the dispatcher and
// the collector know of it, and, for a server, its own gauges (each with the
// metric it was read from). A gauge a server does not expose is null, never
// zero.
type Source struct {
	Index int    `json:"index"`
	Name  string `json:"name"` // "replica 1 (GPU 1)", a server's URL
	Kind  string `json:"kind"` // "replica" or "server"
	Up    bool   `json:"up"`
	Why   string `json:"why,omitempty"` // why it is down: the failure that marked it
	// Client side, over the live window (a run's JSON: over the run).
	OutputTPS   float64 `json:"output_tps"`
	Finished    int     `json:"finished"`
	Failed      int     `json:"failed"`
	OutputTok   int64   `json:"output_tokens,omitempty"` // over a run (reports); not kept live
	Outstanding int     `json:"outstanding"`             // in flight as the dispatcher counts them
	Sent        int64   `json:"sent"`                    // sent to it by the dispatcher
	// FailedByKind counts its failed requests by kind: a server's http_4xx,
	// http_429, http_5xx, timeout, dropped, stream_error, connect, ...; an
	// engine's rejected, aborted; submit (it could not take a batch).
	FailedByKind map[string]int `json:"failed_by_kind"`
	// Running, Waiting and KVUsage are a replica's newest step, or a
	// server's scraped gauges (null: not exposed by this server).
	Running *float64 `json:"running"`
	Waiting *float64 `json:"waiting"`
	KVUsage *float64 `json:"kv_usage"`
	// StepP50 is a replica's median step time over the window; ServerTTFTP50
	// and ServerITLP50 a server's own median TTFT and ITL since its previous
	// scrape, estimated from its histogram buckets (0: none).
	StepP50       time.Duration `json:"step_p50_ns"`
	ServerTTFTP50 time.Duration `json:"server_ttft_p50_ns"`
	ServerITLP50  time.Duration `json:"server_itl_p50_ns"`
	ServerE2EP50  time.Duration `json:"server_e2e_p50_ns"`
	// GaugeSources names the server metric each server-side field came from.
	GaugeSources map[string]string `json:"gauge_sources,omitempty"`
}

// Imbalance is how unevenly the sources share the work: the largest output
// tok/s over the mean, less one (0: even; 1: one source does twice the
// mean). 0 with fewer than two sources or no output.
func Imbalance(rows []Source) float64 {
	if len(rows) < 2 {
		return 0
	}
	sum, hi := 0.0, 0.0
	for _, r := range rows {
		sum += r.OutputTPS
		hi = max(hi, r.OutputTPS)
	}
	if sum <= 0 {
		return 0
	}
	return hi/(sum/float64(len(rows))) - 1
}

// Target is one remote server as benchtop found it: its address, the API
// requests go to, the model they name and the models the server listed,
// the model its responses said answered, whether it took per-chunk usage,
// and its scraped gauges.
type Target struct {
	URL      string   `json:"url"`
	API      string   `json:"api"`
	Model    string   `json:"model"`         // the model requests name
	Listed   []string `json:"models_listed"` // GET /v1/models
	Answered string   `json:"model_answered,omitempty"`
	// MaxModelLen is /v1/models' max_model_len (vLLM's field; 0: not given).
	MaxModelLen int `json:"max_model_len"`
	// ContinuousUsage: the server took stream_options.continuous_usage_stats
	// (usage on every chunk, so tokens per chunk are exact).
	ContinuousUsage bool         `json:"continuous_usage"`
	Gauges          ServerGauges `json:"gauges"`
}

// ServerGauges are a server's scraped /metrics: the latest mapped sample
// (each value with its source metric, or "not exposed") and a series of the
// main gauges on the client's clock (subtract the metrics' start for the
// charts' time axis).
type ServerGauges struct {
	MetricsURL string                `json:"metrics_url"` // "" when scraping is off
	Interval   time.Duration         `json:"interval_ns"`
	Scrapes    int                   `json:"scrapes"`
	Failures   int                   `json:"failures"`
	Error      string                `json:"error,omitempty"` // the latest scrape's failure, while it lasts
	Latest     *servermetrics.Sample `json:"latest"`          // null before a scrape succeeded
	Series     []ServerPoint         `json:"series"`
}

// ServerPoint is one scrape's main gauges (null: not exposed).
type ServerPoint struct {
	At                time.Time `json:"at"`
	Running           *float64  `json:"running"`
	Waiting           *float64  `json:"waiting"`
	KVUsage           *float64  `json:"kv_usage"`
	GenerationTPS     *float64  `json:"generation_tps"` // the generation-token counter's rate
	PromptTPS         *float64  `json:"prompt_tps"`
	PreemptionsTotal  *float64  `json:"preemptions_total"`
	PrefixCacheHitPct *float64  `json:"prefix_cache_hit_pct"` // hits / queries since the previous scrape
}
