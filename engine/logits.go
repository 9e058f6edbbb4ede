package engine

import "fmt"

// PromptLogits runs ids as one prefill through the model and returns the
// logits after the last token, without touching queued requests. Engine
// goroutine only (use Exec from elsewhere); used by the transformers
// comparison and tests.
func (e *Engine) PromptLogits(ids []int32) ([]float32, error) {
	if len(ids) == 0 || len(ids) > e.cfg.MaxNumBatchedTokens || len(ids) >= e.maxModelLen {
		return nil, fmt.Errorf("prompt logits: %d tokens (step limit %d, model length %d)", len(ids), e.cfg.MaxNumBatchedTokens, e.maxModelLen)
	}
	for _, t := range ids {
		if t < 0 || int(t) >= e.model.Cfg.VocabSize {
			return nil, fmt.Errorf("prompt logits: token %d outside the vocabulary of %d", t, e.model.Cfg.VocabSize)
		}
	}
	seq := &Sequence{Req: &Request{ID: "prompt-logits"}, Tokens: ids, NumPrompt: len(ids)}
	if err := e.blocks.Grow(seq, len(ids)); err != nil {
		return nil, fmt.Errorf("prompt logits: %w", err)
	}
	defer e.blocks.Release(seq)
	b := e.buildBatch(SchedulerOutput{Seqs: []Scheduled{{Seq: seq, NumTokens: len(ids), Prefill: true}}})
	logits, err := e.model.Forward(e.be, b, e.kv, e.ws)
	if err != nil {
		return nil, err
	}
	return e.be.Download(logits)
}
