package engine

import (
	"errors"
	"fmt"
)

// ErrWouldStrand marks a configuration change refused because a request in
// the engine could never finish under it.
var ErrWouldStrand = errors.New("would leave a request unable to finish")

// reconfigure applies c, as asked (zero where auto: resolve sizes those
// again, so the CPU's rules and their reasons hold after every change).
func (e *Engine) reconfigure(asked Config, what string) error {
	if err := asked.Validate(); err != nil {
		return err
	}
	c, sz := e.resolve(asked)
	old, oldSz := e.cfg, e.sz
	rebuild := c.BlockSize != old.BlockSize || sz.capPool != oldSz.capPool ||
		c.MaxNumBatchedTokens != old.MaxNumBatchedTokens || c.MaxNumSeqs > e.ws.MaxLogits ||
		c.MaxModelLen != old.MaxModelLen ||
		c.GPUMemoryUtilization != old.GPUMemoryUtilization && e.poolBlocks(c, sz) != int64(e.plan.NumBlocks)
	if rebuild {
		// What needs no new pool is checked before anything is torn down.
		if err := e.checkStranded(what, e.modelLen(c), 1<<62, c.BlockSize); err != nil {
			return err
		}
		e.publish(StateSwitching, nil)
		preempted, err := e.sched.PreemptAll()
		if err != nil {
			return err
		}
		now := e.now()
		for _, seq := range preempted {
			e.emit(&RequestEvent{Kind: EvPreempted, ID: seq.Req.ID, Time: now, PromptTokens: seq.NumPrompt, OutputTokens: seq.NumOutput(), Arrival: seq.Req.Arrival})
		}
		err = e.build(c, sz)
		if err == nil {
			err = e.checkStranded(what, e.maxModelLen, e.blocks.NumBlocks(), c.BlockSize)
		}
		if err != nil {
			// Go back to what worked; the change is refused.
			if berr := e.build(old, oldSz); berr != nil {
				e.failed = fmt.Errorf("%s: %w; restoring the previous configuration failed: %v", what, err, berr)
				return e.failed
			}
			e.publish(e.runState(), nil)
			return err
		}
	} else {
		// The pool and workspace stay; a new utilization that gives the
		// same pool (a capped one, say) is recorded without a rebuild.
		e.cfg = c
		e.sz.reason = sz.reason
		if c.GPUMemoryUtilization != e.plan.Utilization {
			e.replanSamePool(c)
		}
		e.plan.Reason = joinReasons(sz.reason, e.plan.poolReason(c.MaxNumSeqs))
		e.buckets = GraphBuckets(c.MaxNumSeqs) // new buckets are captured on first use
	}
	e.req = asked
	e.publish(e.runState(), nil)
	ev := &ConfigEvent{Time: e.now(), Config: e.cfg, What: what}
	for _, o := range e.obs {
		if co, ok := o.(ConfigObserver); ok {
			co.OnConfig(ev)
		}
	}
	return nil
}

// poolBlocks is the pool planKV would build for c now, counting the
// device's memory in use less the current pool (the workspace is the
// current one: only call it for a change that keeps it).
func (e *Engine) poolBlocks(c Config, sz sizing) int64 {
	free, total := e.be.MemoryInfo()
	capLen := 0
	if sz.capPool {
		capLen = e.modelLen(c)
	}
	return kvBlocks(total, total-free-e.plan.KVBytes, &c, e.plan.BytesPerBlock, capLen).blocks
}

// replanSamePool records c's utilization on a plan whose pool it leaves as
// it is, with what the new budget alone would hold.
func (e *Engine) replanSamePool(c Config) {
	free, total := e.be.MemoryInfo()
	e.plan.Utilization = c.GPUMemoryUtilization
	e.plan.budgetBlocks = kvBlocks(total, total-free-e.plan.KVBytes, &c, e.plan.BytesPerBlock, 0).budget
}

// checkStranded refuses a change under which some unfinished sequence could
// never finish, naming the first and counting the rest.
func (e *Engine) checkStranded(what string, maxModelLen, numBlocks, blockSize int) error {
	var first *Sequence
	msg, n := "", 0
	for _, list := range [][]*Sequence{e.sched.Running(), e.sched.Waiting()} {
		for _, seq := range list {
			if m := e.stranded(seq, maxModelLen, numBlocks, blockSize); m != "" {
				if first == nil {
					first, msg = seq, m
				}
				n++
			}
		}
	}
	if first == nil {
		return nil
	}
	others := ""
	if n > 1 {
		others = fmt.Sprintf(" (and %d more)", n-1)
	}
	return fmt.Errorf("%s refused: %w: request %s %s%s; the previous configuration is kept", what, ErrWouldStrand, first.Req.ID, msg, others)
}
