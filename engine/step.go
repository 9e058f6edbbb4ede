package engine

import (
	"fmt"
	"slices"
	"time"

	"benchtop/kernels"
)

// Step runs one engine step: schedule → execute → sample → update. It
// returns nil when there was nothing to run.
func (e *Engine) Step() (*StepEvent, error) {
	if e.failed != nil {
		return nil, e.failed
	}
	t0 := e.now()
	out, err := e.sched.Schedule()
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	for _, seq := range out.Preempted {
		e.emit(&RequestEvent{Kind: EvPreempted, ID: seq.Req.ID, Time: t0, PromptTokens: seq.NumPrompt, OutputTokens: seq.NumOutput(), Arrival: seq.Req.Arrival})
	}
	if len(out.Seqs) == 0 {
		if len(out.Preempted) == 0 && e.sched.HasWork() {
			e.unstick(t0)
		}
		return nil, nil
	}
	for _, seq := range out.Started {
		e.emit(&RequestEvent{Kind: EvScheduled, ID: seq.Req.ID, Time: t0, PromptTokens: seq.NumPrompt, OutputTokens: seq.NumOutput(), Arrival: seq.Req.Arrival})
	}
	batch := e.buildBatch(out)
	batch.Greedy = greedyStep(out)
	t1 := e.now()
	timer, timed := e.be.(kernels.Timer)
	if timed {
		if err := timer.MarkStart(); err != nil {
			return nil, err
		}
	}
	logits, err := e.forward(batch, out.PrefillTokens == 0)
	if err == nil && !timed {
		err = e.be.Sync() // a device backend syncs when tokens come back
	}
	if err != nil {
		return nil, fmt.Errorf("execute step %d (%d tokens, %d sequences): %w", e.stepIndex, len(batch.Tokens), len(batch.Seqs), err)
	}
	t2 := e.now()
	var params []kernels.SampleParams
	for _, s := range out.Seqs {
		if s.Seq.NumComputed+s.NumTokens == len(s.Seq.Tokens) {
			p := s.Seq.Req.Params
			params = append(params, kernels.SampleParams{Temperature: p.Temperature, TopK: p.TopK, TopP: p.TopP,
				Seed: s.Seq.seed, Step: uint64(s.Seq.NumOutput())})
		}
	}
	var tokens []int32
	if len(params) > 0 {
		if tokens, err = e.be.Sample(logits, params); err != nil {
			return nil, fmt.Errorf("sample step %d: %w", e.stepIndex, err)
		}
	}
	var device time.Duration
	if timed {
		ms, err := timer.MarkEnd()
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", e.stepIndex, err)
		}
		device = time.Duration(ms * float64(time.Millisecond))
	}
	t3 := e.now()
	err = e.update(out, tokens, t3)
	e.flushTokens()
	if err != nil {
		return nil, err
	}
	ctxTokens := 0
	for _, s := range batch.Seqs {
		ctxTokens += s.ContextLen
	}
	ev := &StepEvent{
		ContextTokens: ctxTokens,
		Index:         e.stepIndex, Start: t0, PrefillTokens: out.PrefillTokens, DecodeTokens: out.DecodeTokens,
		NumSeqs: len(out.Seqs), MaxNumSeqs: e.cfg.MaxNumSeqs, KVBlocksUsed: e.blocks.NumUsed(),
		KVBlocksTotal: e.blocks.NumBlocks(), NumRunning: e.sched.NumRunning(), NumWaiting: e.sched.NumWaiting(),
		Preemptions: len(out.Preempted), ScheduleTime: t1.Sub(t0), ExecuteTime: t2.Sub(t1),
		SampleTime: t3.Sub(t2), DeviceTime: device, Total: t3.Sub(t0),
	}
	e.stepIndex++
	for _, o := range e.obs {
		o.OnStep(ev)
	}
	return ev, nil
}

// greedyStep says every sequence the step samples for samples greedily.
func greedyStep(out SchedulerOutput) bool {
	for _, s := range out.Seqs {
		if s.Seq.NumComputed+s.NumTokens == len(s.Seq.Tokens) && s.Seq.Req.Params.Temperature > 0 {
			return false
		}
	}
	return true
}

func (e *Engine) buildBatch(out SchedulerOutput) *kernels.Batch {
	bs := e.cfg.BlockSize
	b := &kernels.Batch{BlockSize: bs, BlockTableStride: e.blockTableStride()}
	for _, s := range out.Seqs {
		seq := s.Seq
		start := len(b.Tokens)
		for p := seq.NumComputed; p < seq.NumComputed+s.NumTokens; p++ {
			b.Tokens = append(b.Tokens, seq.Tokens[p])
			b.Positions = append(b.Positions, int32(p))
			b.Slots = append(b.Slots, seq.Blocks[p/bs]*int32(bs)+int32(p%bs))
		}
		ctx := seq.NumComputed + s.NumTokens
		b.Seqs = append(b.Seqs, kernels.SeqSlice{QueryStart: start, QueryLen: s.NumTokens, ContextLen: ctx,
			BlockTable: seq.Blocks, NeedLogits: ctx == len(seq.Tokens)})
	}
	return b
}

func (e *Engine) update(out SchedulerOutput, tokens []int32, at time.Time) error {
	ti := 0
	eos := int32(e.model.Cfg.EOS)
	for _, s := range out.Seqs {
		seq := s.Seq
		seq.NumComputed += s.NumTokens
		if seq.NumComputed < len(seq.Tokens) {
			continue // a prefill chunk: nothing to sample yet
		}
		tok := tokens[ti]
		ti++
		seq.Tokens = append(seq.Tokens, tok)
		seq.Req.Stream.push(tok)
		kind := EvToken
		if seq.NumOutput() == 1 {
			seq.FirstToken = at
			kind = EvFirstToken
		}
		e.emitToken(RequestEvent{Kind: kind, ID: seq.Req.ID, Time: at, PromptTokens: seq.NumPrompt, OutputTokens: seq.NumOutput(), Arrival: seq.Req.Arrival})
		p := &seq.Req.Params
		why := NotFinished
		switch {
		case !p.IgnoreEOS && tok == eos:
			why = FinishEOS
		case slices.Contains(p.StopTokens, tok):
			why = FinishStop
		case seq.NumOutput() >= p.MaxTokens:
			why = FinishLength
		case len(seq.Tokens) >= e.maxModelLen:
			why = FinishMaxModelLen
		}
		if why != NotFinished {
			if err := e.sched.Finish(seq); err != nil {
				return err
			}
			e.finish(seq, why, at)
		}
	}
	return nil
}
