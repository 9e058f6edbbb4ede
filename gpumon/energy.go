package gpumon

import "time"

// Power is the GPUs' power over [from, to], in watts summed over the GPUs:
// from NVML's total energy counter (joules over seconds between the span's
// first and last samples) where every GPU has it, else the mean of the
// power samples in the span. how names the source; ok is false with no
// sample in the span. J per output token is Power over output tokens/s.
func (g *State) Power(from, to time.Time) (watts float64, how string, ok bool) {
	if g == nil || !g.Available {
		return 0, "", false
	}
	var in []Sample
	for _, smp := range g.History {
		if !smp.Time.Before(from) && !smp.Time.After(to.Add(g.Interval)) && len(smp.GPUs) > 0 {
			in = append(in, smp)
		}
	}
	if len(in) == 0 {
		return 0, "", false
	}
	if first, last := in[0], in[len(in)-1]; len(in) >= 2 && len(first.GPUs) == len(last.GPUs) {
		dt := last.Time.Sub(first.Time).Seconds()
		var joules float64
		every := dt > 0
		for i := range first.GPUs {
			a, b := first.GPUs[i].EnergyJ, last.GPUs[i].EnergyJ
			if a <= 0 || b < a {
				every = false
				break
			}
			joules += b - a
		}
		if every {
			return joules / dt, "NVML energy counter", true
		}
	}
	var sum float64
	n := 0
	for _, smp := range in {
		var w float64
		have := false
		for _, x := range smp.GPUs {
			if x.PowerW >= 0 {
				w += x.PowerW
				have = true
			}
		}
		if have {
			sum += w
			n++
		}
	}
	if n == 0 {
		return 0, "", false
	}
	return sum / float64(n), "NVML power samples", true
}
