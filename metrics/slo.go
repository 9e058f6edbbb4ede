package metrics

import (
	"fmt"
	"regexp"
	"slices"
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

// MaxObjective is the longest objective ParseSLO takes: a day, far above
// any latency worth an objective, so a slip of units is caught.
const MaxObjective = 24 * time.Hour

// sloNames are the objectives, in the order String writes them.
var sloNames = []string{"ttft", "tpot", "e2e"}

// durationSyntax is what time.ParseDuration reads; a value in this form
// that it refuses overflowed.
var durationSyntax = regexp.MustCompile(`^[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// ParseSLO reads "ttft=200ms,tpot=50ms,e2e=2s" (any subset, names in any
// case, spaces allowed around each part). Each duration must be above 0 and
// at most MaxObjective, and each objective given once; an empty string sets
// none. The error names the part and what is wrong with it.
func ParseSLO(s string) (SLO, error) {
	var out SLO
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	given := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch {
		case part == "":
			return SLO{}, fmt.Errorf("%q: an empty objective (a comma too many?); want name=duration, e.g. ttft=200ms", s)
		case !ok:
			return SLO{}, fmt.Errorf("%q: want name=duration, e.g. ttft=200ms", part)
		case !slices.Contains(sloNames, k):
			return SLO{}, fmt.Errorf("%q: unknown objective %q; the objectives are %s", part, k, strings.Join(sloNames, ", "))
		case given[k] != "":
			return SLO{}, fmt.Errorf("%q: %s is given twice (first as %s)", part, k, given[k])
		case v == "":
			return SLO{}, fmt.Errorf("%q: no duration; want e.g. %s=200ms", part, k)
		}
		given[k] = part
		d, err := time.ParseDuration(v)
		switch {
		case err != nil && durationSyntax.MatchString(v):
			return SLO{}, fmt.Errorf("%q: %s is too long: an objective is at most %s", part, v, MaxObjective)
		case err != nil && strings.Trim(v, "+-.0123456789") == "" && strings.ContainsAny(v, "0123456789"):
			return SLO{}, fmt.Errorf("%q: %s has no unit; want one of ns, us, ms, s, m, h, e.g. %s=200ms", part, v, k)
		case err != nil:
			return SLO{}, fmt.Errorf("%q: %q is not a duration; want a number and a unit (ns, us, ms, s, m, h), e.g. %s=200ms", part, v, k)
		case d <= 0:
			return SLO{}, fmt.Errorf("%q: the duration must be positive (above 0); leave %s out to set no objective", part, k)
		case d > MaxObjective:
			return SLO{}, fmt.Errorf("%q: %s is too long: an objective is at most %s", part, v, MaxObjective)
		}
		switch k {
		case "ttft":
			out.TTFT = d
		case "tpot":
			out.TPOT = d
		case "e2e":
			out.E2E = d
		}
	}
	return out, nil
}
