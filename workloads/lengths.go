package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// MaxLength is the most tokens a length may be: parsed numbers above it
// are refused, and draws are clamped to it.
const MaxLength = 1 << 20

// MaxLogSigma is the largest log-space spread of a log-normal length.
const MaxLogSigma = 4

// Length draws token counts. Draws are clamped to [1, Max] (Max 0: MaxLength).
type Length struct {
	Kind   string  // fixed, uniform, normal, lognormal
	A, B   float64 // fixed: A; uniform: [A, B]; normal: mean A, std B; lognormal: mean A, sigma B
	Max    int
	source string
}

func (l Length) String() string {
	if l.source != "" {
		return l.source
	}
	return fmt.Sprintf("%s:%g:%g", l.Kind, l.A, l.B)
}

// Draw one length.
func (l Length) Draw(r *rand.Rand) int {
	var v float64
	switch l.Kind {
	case "fixed":
		v = l.A
	case "uniform":
		v = l.A + r.Float64()*(l.B-l.A+1)
	case "normal":
		v = l.A + l.B*r.NormFloat64()
	case "lognormal":
		// Mean A and log-space sigma B: mu = ln A − σ²/2.
		mu := math.Log(l.A) - l.B*l.B/2
		v = math.Exp(mu + l.B*r.NormFloat64())
	}
	hi := l.Max
	if hi <= 0 || hi > MaxLength {
		hi = MaxLength
	}
	if !(v < float64(hi)) { // also NaN
		return hi
	}
	return max(1, int(v))
}

// ShareGPT's published length statistics, from the vLLM paper (Kwon et al.,
// "Efficient Memory Management for Large Language Model Serving with
// PagedAttention", SOSP 2023, Fig. 11): mean input 161.31 tokens, mean output
// 337.99 tokens (Alpaca, for contrast: 19.31 and 58.45). The spread is ours:
// a log-normal with σ = 1.0 in log space (long-tailed, as the paper's
// histograms are), capped at 1,024 input and 1,024 output tokens.
var (
	ShareGPTPrompt = Length{Kind: "lognormal", A: 161.31, B: 1.0, Max: 1024, source: "sharegpt-prompt"}
	ShareGPTOutput = Length{Kind: "lognormal", A: 337.99, B: 1.0, Max: 1024, source: "sharegpt-output"}
)

// ParseLength reads fixed:N, uniform:A:B, normal:MEAN:STD,
// lognormal:MEAN:SIGMA, or sharegpt (the prompt or output preset). Token
// counts are at most MaxLength, a log-normal sigma at most MaxLogSigma.
func ParseLength(s string, output bool) (Length, error) {
	if s == "sharegpt" {
		if output {
			return ShareGPTOutput, nil
		}
		return ShareGPTPrompt, nil
	}
	parts := strings.Split(s, ":")
	nums := make([]float64, len(parts)-1)
	for i, p := range parts[1:] {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return Length{}, fmt.Errorf("length %q: %q is not a non-negative number", s, p)
		}
		nums[i] = v
	}
	l := Length{Kind: parts[0], source: s}
	want := map[string]int{"fixed": 1, "uniform": 2, "normal": 2, "lognormal": 2}
	n, ok := want[l.Kind]
	if !ok {
		return Length{}, fmt.Errorf("length %q: want fixed:N, uniform:A:B, normal:MEAN:STD, lognormal:MEAN:SIGMA or sharegpt", s)
	}
	if len(nums) != n {
		return Length{}, fmt.Errorf("length %q: %s takes %d numbers", s, l.Kind, n)
	}
	l.A = nums[0]
	if n == 2 {
		l.B = nums[1]
	}
	switch {
	case l.A < 1:
		return Length{}, fmt.Errorf("length %q: the first number must be at least 1", s)
	case l.A > MaxLength || (l.Kind != "lognormal" && l.B > MaxLength):
		return Length{}, fmt.Errorf("length %q: tokens must be at most %d", s, MaxLength)
	case l.Kind == "lognormal" && l.B > MaxLogSigma:
		return Length{}, fmt.Errorf("length %q: sigma %g is above %d", s, l.B, MaxLogSigma)
	case l.Kind == "uniform" && l.B < l.A:
		return Length{}, fmt.Errorf("length %q: uniform needs A ≤ B", s)
	}
	return l, nil
}
