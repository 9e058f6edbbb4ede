package engine

import (
	"fmt"
	"time"
)

// inadmissible says why a new request can never run under the current
// settings ("" when it can): bad sampling parameters or tokens, a prompt
// that leaves no room in the model length, more KV blocks than the pool
// holds, or — with chunked prefill off — a prompt longer than one step's
// token budget.
func (e *Engine) inadmissible(seq *Sequence) string {
	r := seq.Req
	if err := r.Params.Validate(); err != nil {
		return err.Error()
	}
	if len(r.Prompt) == 0 {
		return "empty prompt"
	}
	for _, t := range r.Prompt {
		if t < 0 || int(t) >= e.model.Cfg.VocabSize {
			return fmt.Sprintf("token %d outside the vocabulary of %d", t, e.model.Cfg.VocabSize)
		}
	}
	if msg := e.stranded(seq, e.maxModelLen, e.blocks.NumBlocks(), e.cfg.BlockSize); msg != "" {
		return msg
	}
	if !e.cfg.EnableChunkedPrefill && len(r.Prompt) > e.cfg.MaxNumBatchedTokens {
		return fmt.Sprintf("prompt of %d tokens is longer than max_num_batched_tokens %d and chunked prefill is off", len(r.Prompt), e.cfg.MaxNumBatchedTokens)
	}
	return ""
}

// stranded says why seq could never finish with a model length of
// maxModelLen and a pool of numBlocks blocks of blockSize tokens ("" when
// it can): it must be able to hold one more token, and the pool must hold
// all it may grow to.
func (e *Engine) stranded(seq *Sequence, maxModelLen, numBlocks, blockSize int) string {
	if n := len(seq.Tokens); n >= maxModelLen {
		if seq.NumOutput() == 0 {
			return fmt.Sprintf("prompt of %d tokens does not fit max_model_len %d (it must leave room for one output token)", n, maxModelLen)
		}
		return fmt.Sprintf("holds %d tokens, max_model_len is %d", n, maxModelLen)
	}
	total := min(seq.NumPrompt+seq.Req.Params.MaxTokens, maxModelLen)
	if need := ceilDiv(total, blockSize); need > numBlocks {
		return fmt.Sprintf("needs %d KV blocks (%d tokens) and the pool has %d", need, total, numBlocks)
	}
	return ""
}

// defaultReason is the reason in words of an outcome that has none yet.
func defaultReason(seq *Sequence, why FinishReason, maxModelLen int) string {
	switch why {
	case FinishMaxModelLen:
		return fmt.Sprintf("output cut at max_model_len %d: %d of %d tokens", maxModelLen, seq.NumOutput(), seq.Req.Params.MaxTokens)
	case FinishAborted:
		return "the engine stopped before the request finished"
	case FinishRejected:
		return "rejected"
	}
	return ""
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// unstick keeps the engine live when a step could schedule nothing though
// sequences wait (admission and reconfigure rule that out; this is the
// guard should a rule be missed): the head of the queue, which blocks the
// rest, is finished as rejected with the reason, instead of the loop
// spinning on it forever.
func (e *Engine) unstick(at time.Time) {
	w := e.sched.Waiting()
	if len(w) == 0 || e.sched.NumRunning() > 0 {
		return
	}
	seq := w[0]
	n := len(seq.Tokens) - seq.NumComputed
	seq.Err = fmt.Sprintf("could not be scheduled: %d tokens to compute, step budget %d (chunked prefill %v), %d KV blocks needed of %d free",
		n, e.cfg.MaxNumBatchedTokens, e.cfg.EnableChunkedPrefill, e.blocks.BlocksFor(len(seq.Tokens)), e.blocks.NumFree())
	e.sched.Withdraw(func(s *Sequence) bool { return s == seq })
	e.finish(seq, FinishRejected, at)
}
