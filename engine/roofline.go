package engine

import "time"

// StepCost is the least a step must move through device memory and compute.
type StepCost struct {
	WeightBytes int64 // every weight, read once
	KVBytes     int64 // the cached keys and values the step attends over
	FLOPs       float64
}

// Cost is the cost of a step of tokens tokens whose sequences attend over
// contextTokens cached tokens in all.
func (st *Status) Cost(tokens, contextTokens int) StepCost {
	kvPerToken := st.Plan.BytesPerBlock / int64(max(1, st.Plan.BlockSize))
	return StepCost{WeightBytes: st.Plan.WeightBytes, KVBytes: int64(contextTokens) * kvPerToken,
		FLOPs: st.MatmulFLOPsPerToken*float64(tokens) + st.AttentionFLOPsPerContextToken*float64(contextTokens)}
}

// Floor is the roofline floor of a cost: the larger of its bytes over the
// measured bandwidth and its FLOPs over the measured matrix rate; 0 where
// the backend measured no ceilings.
func (st *Status) Floor(c StepCost) time.Duration {
	bw, rate := st.Ceilings.BandwidthBytesPerSec, st.Ceilings.MatmulFlopsPerSec
	if bw <= 0 || rate <= 0 {
		return 0
	}
	secs := max(float64(c.WeightBytes+c.KVBytes)/bw, c.FLOPs/rate)
	return time.Duration(secs * float64(time.Second))
}
