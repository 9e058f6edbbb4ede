package metrics

import (
	"fmt"
	"strings"
	"time"
)

// SLO is a set of per-request latency objectives; a zero field is not set.
type SLO struct {
	TTFT time.Duration `json:"ttft_ns,omitempty"`
	TPOT time.Duration `json:"tpot_ns,omitempty"`
	E2E  time.Duration `json:"e2e_ns,omitempty"`
}

// Empty says no objective is set.
func (s SLO) Empty() bool { return s == SLO{} }

// Met says whether a finished request met every objective set. A request
// that produced no token meets none.
func (s SLO) Met(r RequestRecord) bool {
	if r.OutputTokens == 0 {
		return false
	}
	return (s.TTFT == 0 || r.TTFT <= s.TTFT) && (s.TPOT == 0 || r.OutputTokens < 2 || r.TPOT <= s.TPOT) &&
		(s.E2E == 0 || r.E2E <= s.E2E)
}

func (s SLO) String() string {
	var parts []string
	for _, p := range []struct {
		n string
		d time.Duration
	}{{"ttft", s.TTFT}, {"tpot", s.TPOT}, {"e2e", s.E2E}} {
		if p.d > 0 {
			parts = append(parts, p.n+"="+p.d.String())
		}
	}
	return strings.Join(parts, ",")
}

// ParseSLO reads "ttft=200ms,tpot=50ms,e2e=2s" (any subset).
func ParseSLO(s string) (SLO, error) {
	var out SLO
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		d, err := time.ParseDuration(v)
		if !ok || err != nil || d <= 0 {
			return SLO{}, fmt.Errorf("SLO %q: want name=duration, e.g. ttft=200ms", part)
		}
		switch k {
		case "ttft":
			out.TTFT = d
		case "tpot":
			out.TPOT = d
		case "e2e":
			out.E2E = d
		default:
			return SLO{}, fmt.Errorf("SLO %q: objectives are ttft, tpot and e2e", part)
		}
	}
	return out, nil
}
