package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Arrival is how requests are sent: all at once (offline, the tutorial's
// way), a closed loop of N clients, or at offsets drawn from a process.
type Arrival struct {
	Kind   string  // all, closed, constant, poisson, gamma, ramp, trace
	Rate   float64 // requests/s (constant, poisson, gamma; ramp: start rate)
	Rate2  float64 // ramp: end rate
	CV     float64 // gamma: coefficient of variation (burstiness; 1 is Poisson)
	Period time.Duration
	N      int // closed: clients
}

func (a Arrival) String() string {
	switch a.Kind {
	case "closed":
		return fmt.Sprintf("closed loop of %d clients", a.N)
	case "constant":
		return fmt.Sprintf("constant %g req/s", a.Rate)
	case "poisson":
		return fmt.Sprintf("Poisson %g req/s", a.Rate)
	case "gamma":
		return fmt.Sprintf("gamma %g req/s, CV %g", a.Rate, a.CV)
	case "ramp":
		return fmt.Sprintf("ramp %g → %g req/s over %s", a.Rate, a.Rate2, a.Period)
	case "trace":
		return "trace timestamps"
	}
	return "all at once"
}

// Bounds of the numbers an arrival process takes: rates from one request
// in about 17 minutes to a million a second, burstiness (CV) from nearly
// regular to extreme, ramps up to about 11 days, and closed loops of up to
// MaxClients clients (each is a goroutine with a request in flight).
const (
	MinRate       = 1e-3
	MaxRate       = 1e6
	MinCV         = 0.01
	MaxCV         = 100.0
	MaxRampPeriod = 1e6 // seconds
	MaxClients    = 4096
)

// maxOffset is the latest send time Offsets gives: far beyond any run,
// and far from overflowing time.Duration.
const maxOffset = 100 * 365 * 24 * time.Hour

// Offsets returns n send times for a process (nil for all, closed and
// trace, which the specs or the driver decide): non-decreasing, from 0, at
// most 100 years.
func (a Arrival) Offsets(n int, seed int64) []time.Duration {
	r := rand.New(rand.NewPCG(uint64(seed), 0xA5))
	out := make([]time.Duration, n)
	var t float64
	for i := range out {
		switch a.Kind {
		case "constant":
			t = float64(i) / a.Rate
		case "poisson":
			t += r.ExpFloat64() / a.Rate
		case "gamma":
			// Gamma gaps with mean 1/rate and CV: shape k = 1/CV², scale θ = CV²/rate.
			k := 1 / (a.CV * a.CV)
			t += gammaDraw(r, k) * a.CV * a.CV / a.Rate
		case "ramp":
			// A Poisson process whose rate moves linearly over Period, then holds.
			rate := a.Rate2
			if p := a.Period.Seconds(); p > 0 && t < p {
				rate = a.Rate + (a.Rate2-a.Rate)*t/p
			}
			t += r.ExpFloat64() / math.Max(rate, MinRate)
		default:
			return nil
		}
		if !(t*float64(time.Second) < float64(maxOffset)) { // also NaN
			out[i] = maxOffset
			continue
		}
		out[i] = time.Duration(t * float64(time.Second))
	}
	return out
}

// gammaDraw samples Gamma(k, 1) (Marsaglia and Tsang; k < 1 boosted).
func gammaDraw(r *rand.Rand, k float64) float64 {
	if k < 1 {
		return gammaDraw(r, k+1) * math.Pow(r.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// ParseArrival reads all, closed:N, constant:RATE, poisson:RATE,
// gamma:RATE:CV, ramp:FROM:TO:SECONDS or trace. Every number is checked
// against its bounds (MinRate…MaxRate, MinCV…MaxCV, MaxRampPeriod,
// MaxClients), not only its sign.
func ParseArrival(s string) (Arrival, error) {
	parts := strings.Split(s, ":")
	nums := make([]float64, len(parts)-1)
	for i, p := range parts[1:] {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return Arrival{}, fmt.Errorf("arrival %q: %q is not a positive number", s, p)
		}
		nums[i] = v
	}
	want := map[string]int{"all": 0, "trace": 0, "closed": 1, "constant": 1, "poisson": 1, "gamma": 2, "ramp": 3}
	n, ok := want[parts[0]]
	if !ok {
		return Arrival{}, fmt.Errorf("arrival %q: want all, closed:N, constant:RATE, poisson:RATE, gamma:RATE:CV, ramp:FROM:TO:SECONDS or trace", s)
	}
	if len(nums) != n {
		return Arrival{}, fmt.Errorf("arrival %q: %s takes %d numbers", s, parts[0], n)
	}
	rate := func(v float64) error {
		if v < MinRate || v > MaxRate {
			return fmt.Errorf("arrival %q: rate %g req/s is outside [%g, %g]", s, v, MinRate, MaxRate)
		}
		return nil
	}
	a := Arrival{Kind: parts[0]}
	switch a.Kind {
	case "closed":
		if nums[0] != math.Trunc(nums[0]) || nums[0] > MaxClients {
			return Arrival{}, fmt.Errorf("arrival %q: clients must be a whole number from 1 to %d", s, MaxClients)
		}
		a.N = int(nums[0])
	case "constant", "poisson":
		a.Rate = nums[0]
	case "gamma":
		a.Rate, a.CV = nums[0], nums[1]
		if a.CV < MinCV || a.CV > MaxCV {
			return Arrival{}, fmt.Errorf("arrival %q: CV %g is outside [%g, %g]", s, a.CV, MinCV, MaxCV)
		}
	case "ramp":
		if nums[2] > MaxRampPeriod {
			return Arrival{}, fmt.Errorf("arrival %q: a ramp of %g s is longer than %g s", s, nums[2], MaxRampPeriod)
		}
		a.Rate, a.Rate2, a.Period = nums[0], nums[1], time.Duration(nums[2]*float64(time.Second))
		if err := rate(a.Rate2); err != nil {
			return Arrival{}, err
		}
	}
	if a.Rate != 0 {
		if err := rate(a.Rate); err != nil {
			return Arrival{}, err
		}
	}
	return a, nil
}
