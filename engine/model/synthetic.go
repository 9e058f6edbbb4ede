package model

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"

	"benchtop/kernels"
)

// Presets are the embedded models: real architectures with seeded synthetic
// weights, built at start-up. Their performance is the real model's; their
// text is not. The synthetic presets use the GPT-2 tokenizer, whose
// end-of-text token 50256 is their BOS and EOS.
var Presets = map[string]Config{
	"opt-125m": func() Config {
		c := defaultConfig()
		c.Name, c.TorchDType, c.BOS, c.EOS = "opt-125m", "float16", 50256, 50256
		return c
	}(),
	"tiny": func() Config {
		c := defaultConfig()
		c.Name, c.TorchDType, c.BOS, c.EOS = "tiny", "float32", 50256, 50256
		c.HiddenSize, c.NumLayers, c.NumHeads, c.FFNDim = 64, 2, 2, 256
		return c
	}(),
}

// DefaultPreset is the model benchtop runs when none is named.
const DefaultPreset = "opt-125m"

// SyntheticSource draws every weight of a config from a seeded normal
// distribution (std 0.02, as transformers initialises OPT; layer-norm weights
// around 1), so a preset is the same model on every machine and run.
type SyntheticSource struct {
	shapes map[string][]int
	seed   uint64
}

// NewSyntheticSource returns the weights of cfg for seed.
func NewSyntheticSource(cfg Config, seed uint64) *SyntheticSource {
	m := &OPT{Cfg: cfg, Layers: make([]Layer, cfg.NumLayers)}
	if cfg.HasFinalNorm() {
		m.FinalNorm = &Norm{}
	}
	s := &SyntheticSource{shapes: map[string][]int{}, seed: seed}
	for _, p := range m.params() {
		s.shapes["model.decoder."+p.name] = p.shape
	}
	return s
}

const synthChunk = 1 << 20

func (s *SyntheticSource) Tensor(name string) ([]float32, []int, bool, error) {
	shape, ok := s.shapes[name]
	if !ok {
		return nil, nil, false, nil
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	nameSeed := h.Sum64()
	mean := float32(0)
	if strings.Contains(name, "layer_norm") && strings.HasSuffix(name, ".weight") {
		mean = 1
	}
	out := make([]float32, kernels.Numel(shape))
	// Fixed chunks with their own streams: the values do not depend on how
	// many goroutines draw them.
	var wg sync.WaitGroup
	for lo := 0; lo < len(out); lo += synthChunk {
		wg.Add(1)
		go func(lo int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(s.seed^nameSeed, uint64(lo)))
			for i := lo; i < min(lo+synthChunk, len(out)); i++ {
				out[i] = mean + 0.02*float32(r.NormFloat64())
			}
		}(lo)
	}
	wg.Wait()
	return out, shape, true, nil
}

func (s *SyntheticSource) Close() error { return nil }
