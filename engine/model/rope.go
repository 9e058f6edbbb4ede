package model

import "math"

// InvFreq is the rotary embedding's inverse frequencies [head_dim/2], as
// transformers' rope initialisation computes them in fp32:
// 1 / rope_theta^(2i/head_dim), then scaled per rope_scaling —
//   - linear: all divided by factor;
//   - llama3: wavelengths longer than original_max_position_embeddings /
//     low_freq_factor divided by factor, shorter than
//     original_max_position_embeddings / high_freq_factor kept, and those
//     between interpolated smoothly.
//
// (Validate rejects the other scaling types.)
func (c *Config) InvFreq() []float32 {
	hd := c.HeadDim()
	out := make([]float32, hd/2)
	for i := range out {
		e := float32(2*i) / float32(hd)
		out[i] = float32(1 / float64(float32(math.Pow(c.RopeTheta, float64(e)))))
	}
	r := c.RopeScaling
	switch r.Kind() {
	case "linear":
		for i := range out {
			out[i] = float32(float64(out[i]) / r.Factor)
		}
	case "llama3":
		old := float64(r.OriginalMaxPositions)
		lowWavelen, highWavelen := old/r.LowFreqFactor, old/r.HighFreqFactor
		for i, f := range out {
			inv := float64(f)
			wavelen := 2 * math.Pi / inv
			switch {
			case wavelen < highWavelen:
			case wavelen > lowWavelen:
				inv /= r.Factor
			default:
				smooth := (old/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
				inv = (1-smooth)*inv/r.Factor + smooth*inv
			}
			out[i] = float32(inv)
		}
	}
	return out
}
