package model

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"benchtop/kernels"
)

// Loaded is a model ready to run: weights on a backend and a tokenizer.
type Loaded struct {
	*OPT
	Tokenizer Tokenizer // nil when a folder brings none
	Synthetic bool      // weights are seeded random, not trained
	Source    string    // preset name or folder path
}

// PresetNames lists the embedded presets.
func PresetNames() []string {
	var out []string
	for n := range Presets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Open loads spec — a preset name or a Hugging Face model folder — onto be
// with weights in dtype dt. seed picks a preset's synthetic weights.
func Open(spec string, be kernels.Backend, dt kernels.DType, seed uint64) (*Loaded, error) {
	if cfg, ok := Presets[spec]; ok {
		src := NewSyntheticSource(cfg, seed)
		m, err := Load(be, cfg, src, dt)
		if err != nil {
			return nil, fmt.Errorf("preset %s: %w", spec, err)
		}
		tok, err := NewGPT2Tokenizer()
		if err != nil {
			m.Free(be)
			return nil, err
		}
		return &Loaded{OPT: m, Tokenizer: tok, Synthetic: true, Source: spec}, nil
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("model %q is neither a preset (%s) nor a folder: %w", spec, strings.Join(PresetNames(), ", "), err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("model %q is a file; give the model folder (config.json + *.safetensors)", spec)
	}
	cfg, err := ReadConfig(spec)
	if err != nil {
		return nil, err
	}
	src, err := OpenSafetensors(spec)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	m, err := Load(be, cfg, src, dt)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", spec, err)
	}
	l := &Loaded{OPT: m, Source: spec}
	if tok, err := LoadTokenizer(spec); err == nil {
		l.Tokenizer = tok
	}
	return l, nil
}

// Encode tokenizes a prompt the way OPT's tokenizer does: BOS first.
func (l *Loaded) Encode(text string) ([]int32, error) {
	if l.Tokenizer == nil {
		return nil, fmt.Errorf("model %s has no tokenizer (tokenizer.json, or vocab.json and merges.txt): text prompts cannot be encoded", l.Source)
	}
	ids, err := l.Tokenizer.Encode(text)
	if err != nil {
		return nil, err
	}
	return append([]int32{int32(l.Cfg.BOS)}, ids...), nil
}
