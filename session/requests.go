package session

import (
	"fmt"
	"math/rand/v2"
	"time"

	"benchtop/engine"
	"benchtop/engine/model"
	"benchtop/workloads"
)

// Vocab is what turns a workload's specs into token ids for one model.
type Vocab struct {
	// Encode tokenizes text, BOS first where the model's tokenizer adds
	// one; nil when the model brings no tokenizer (then only
	// synthetic-length prompts can run).
	Encode func(text string) ([]int32, error)
	// Decode is the text of ids (the prefix's special tokens included);
	// nil without a tokenizer. Remote targets send it where the API takes
	// text.
	Decode    func(ids []int32) string
	VocabSize int
	Prefix    []int32 // what every prompt starts with (BOS, or nothing); read-only
	Source    string  // the model's preset name or folder
	// MaxModelLen is the tokens a sequence may hold under the session's
	// settings at open (0 when not known: OpenVocab).
	MaxModelLen int
}

// VocabOf is a loaded model's vocabulary.
func VocabOf(m *model.Loaded) Vocab { return vocabWith(m.Cfg, m.Prompter()) }

// OpenVocab reads a model's vocabulary without loading its weights: a
// preset's, or a folder's config.json and tokenizer files.
func OpenVocab(spec string) (Vocab, error) { return OpenVocabWith(spec, model.Options{}) }

// OpenVocabWith is OpenVocab with o.Tokenizer, when set, in place of the
// model's own, as in a session (Options.Tokenizer).
func OpenVocabWith(spec string, o model.Options) (Vocab, error) {
	cfg, p, err := model.OpenPrompter(spec, o)
	if err != nil {
		return Vocab{}, err
	}
	return vocabWith(cfg, p), nil
}

func vocabWith(cfg model.Config, p *model.Prompter) Vocab {
	v := Vocab{VocabSize: cfg.VocabSize, Prefix: p.Prefix, Source: p.Source}
	if p.Tokenizer != nil {
		v.Encode, v.Decode = p.Encode, p.Tokenizer.Decode
	}
	return v
}

// MaxRequests bounds the requests of one workload run (they are built, and
// their results kept, at once).
const MaxRequests = 1 << 20

// Requests builds a workload's requests for seed: the one request builder
// the dashboard, every headless command and `tokenize` use. A text prompt
// is tokenized; a synthetic one is the model's prefix (BOS where its
// tokenizer adds one), then PrefixLen tokens the same for
// every request of the seed, then the request's own tokens, all drawn from
// the vocabulary's ordinary range (above a small vocabulary's specials too).
// IDs are prefix + the spec's ID. The
// offsets are the specs' send times (0 for closed-loop workloads).
func (v Vocab) Requests(w workloads.Workload, seed int64, prefix string) ([]*engine.Request, []time.Duration, error) {
	if w.Count > MaxRequests {
		return nil, nil, fmt.Errorf("workload %s: %d requests; at most %d", w.Name, w.Count, MaxRequests)
	}
	specs := w.Specs(seed)
	reqs := make([]*engine.Request, len(specs))
	arrivals := make([]time.Duration, len(specs))
	for i, sp := range specs {
		ids, err := v.promptIDs(sp, seed, i)
		if err != nil {
			return nil, nil, fmt.Errorf("workload %s: %w", w.Name, err)
		}
		reqs[i] = &engine.Request{ID: prefix + sp.ID, Prompt: ids, Params: engine.SamplingParams{
			Temperature: sp.Temperature, TopP: sp.TopP, TopK: sp.TopK, MaxTokens: sp.MaxTokens, IgnoreEOS: sp.IgnoreEOS}}
		arrivals[i] = sp.Arrival
	}
	return reqs, arrivals, nil
}

func (v Vocab) promptIDs(sp workloads.Spec, seed int64, i int) ([]int32, error) {
	if sp.Prompt != "" || sp.PromptLen == 0 {
		if v.Encode == nil {
			return nil, fmt.Errorf("model %s has no tokenizer (tokenizer.json, or vocab.json and merges.txt): text prompts cannot be encoded", v.Source)
		}
		return v.Encode(sp.Prompt)
	}
	vocab := min(v.VocabSize, 50000)
	lo := min(1000, vocab/4)
	span := max(1, vocab-lo)
	ids := make([]int32, 0, sp.PromptLen+len(v.Prefix))
	ids = append(ids, v.Prefix...)
	shared := rand.New(rand.NewPCG(uint64(seed), 0x9f))
	own := rand.New(rand.NewPCG(uint64(seed), uint64(i)+1))
	for j := 0; j < sp.PromptLen; j++ {
		r := own
		if j < sp.PrefixLen {
			r = shared
		}
		ids = append(ids, int32(lo+r.IntN(span)))
	}
	return ids, nil
}
