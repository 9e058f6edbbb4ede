package engine

import "errors"

// Scheduled is one sequence's share of a step.
type Scheduled struct {
	Seq       *Sequence
	NumTokens int
	Prefill   bool // the tokens are prompt (or recompute) tokens, not one decode
}

// SchedulerOutput is what one step runs.
type SchedulerOutput struct {
	Seqs          []Scheduled
	PrefillTokens int
	DecodeTokens  int
	Preempted     []*Sequence
	Started       []*Sequence // scheduled for the first time (or again after preemption)
}

// Scheduler is vLLM v1's unified scheduler: running sequences first (decodes
// and unfinished prefill chunks, in order), then waiting ones FCFS, under a
// token budget and a sequence limit. When blocks run out the newest running
// sequence is preempted by recompute: its blocks are freed and it goes back to
// the front of the queue with its tokens kept. The same happens to the newest
// running sequences when max_num_seqs is lowered below the running count, so
// a step never holds more than max_num_seqs sequences.
//
// Liveness holds whatever the flags: with chunked prefill off, a sequence
// whose tokens to compute exceed max_num_batched_tokens (one preempted after
// it grew past the budget) is split over steps anyway, since it could never
// run whole; the engine rejects prompts that would need that at admission.
type Scheduler struct {
	cfg     *Config
	blocks  *BlockManager
	waiting []*Sequence
	running []*Sequence
}

// NewScheduler returns a scheduler over blocks reading limits from cfg.
func NewScheduler(cfg *Config, blocks *BlockManager) *Scheduler {
	return &Scheduler{cfg: cfg, blocks: blocks}
}

// Add queues a new sequence.
func (s *Scheduler) Add(seq *Sequence) {
	seq.State = Waiting
	s.waiting = append(s.waiting, seq)
}

func (s *Scheduler) NumWaiting() int { return len(s.waiting) }
func (s *Scheduler) NumRunning() int { return len(s.running) }
func (s *Scheduler) HasWork() bool   { return len(s.waiting)+len(s.running) > 0 }

// Schedule picks the next step's work.
func (s *Scheduler) Schedule() (SchedulerOutput, error) {
	var out SchedulerOutput
	// max_num_seqs caps the running set, not only admission: after it is
	// lowered the newest running sequences go back to the queue.
	for len(s.running) > s.cfg.MaxNumSeqs {
		victim := s.running[len(s.running)-1]
		if err := s.preempt(victim); err != nil {
			return out, err
		}
		out.Preempted = append(out.Preempted, victim)
	}
	budget := s.cfg.MaxNumBatchedTokens
	for i := 0; i < len(s.running) && budget > 0; {
		seq := s.running[i]
		n := min(len(seq.Tokens)-seq.NumComputed, budget)
		for {
			err := s.blocks.Grow(seq, seq.NumComputed+n)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrNoFreeBlocks) {
				return out, err
			}
			victim := s.running[len(s.running)-1]
			if err := s.preempt(victim); err != nil {
				return out, err
			}
			out.Preempted = append(out.Preempted, victim)
			if victim == seq {
				n = 0
				break
			}
		}
		if n == 0 {
			break // seq preempted itself: it was the last running
		}
		out.add(seq, n)
		budget -= n
		i++
	}
	if len(out.Preempted) > 0 {
		return out, nil // blocks or seats are short: admit nothing new this step
	}
	for len(s.waiting) > 0 && len(s.running) < s.cfg.MaxNumSeqs && budget > 0 {
		seq := s.waiting[0]
		n := len(seq.Tokens) - seq.NumComputed
		if n > budget {
			if !s.cfg.EnableChunkedPrefill && n <= s.cfg.MaxNumBatchedTokens {
				break // it runs whole in a later step with the budget to itself
			}
			n = budget
		}
		if err := s.blocks.Grow(seq, seq.NumComputed+n); err != nil {
			if errors.Is(err, ErrNoFreeBlocks) {
				break // wait for running sequences to free blocks
			}
			return out, err
		}
		s.waiting = s.waiting[1:]
		seq.State = Running
		s.running = append(s.running, seq)
		out.Started = append(out.Started, seq)
		out.add(seq, n)
		budget -= n
	}
	return out, nil
}

func (o *SchedulerOutput) add(seq *Sequence, n int) {
	prefill := seq.NumComputed+n < len(seq.Tokens) || n > 1 || seq.NumComputed < seq.NumPrompt
	o.Seqs = append(o.Seqs, Scheduled{Seq: seq, NumTokens: n, Prefill: prefill})
	if prefill {
		o.PrefillTokens += n
	} else {
		o.DecodeTokens += n
	}
}

func (s *Scheduler) preempt(seq *Sequence) error {
	s.remove(seq)
	if err := s.blocks.Release(seq); err != nil {
		return err
	}
	seq.NumComputed = 0
	seq.State = Preempted
	seq.Preemptions++
	s.waiting = append([]*Sequence{seq}, s.waiting...)
	return nil
}

func (s *Scheduler) remove(seq *Sequence) { s.running = removeSeq(s.running, seq) }

func removeSeq(list []*Sequence, s *Sequence) []*Sequence {
	for i, x := range list {
		if x == s {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// Waiting is the queue, oldest first (engine goroutine only; do not keep it).
func (s *Scheduler) Waiting() []*Sequence { return s.waiting }

// Running is the running set in admission order (engine goroutine only).
func (s *Scheduler) Running() []*Sequence { return s.running }

// Withdraw takes out of the queue every waiting sequence drop says must go,
// and returns them in queue order.
func (s *Scheduler) Withdraw(drop func(*Sequence) bool) []*Sequence {
	var out []*Sequence
	kept := s.waiting[:0]
	for _, seq := range s.waiting {
		if drop(seq) {
			out = append(out, seq)
		} else {
			kept = append(kept, seq)
		}
	}
	s.waiting = kept
	return out
}

// Finish removes a finished sequence from the running set and frees its blocks.
func (s *Scheduler) Finish(seq *Sequence) error {
	s.remove(seq)
	seq.State = Finished
	return s.blocks.Release(seq)
}

// PreemptAll sends every running sequence back to the queue (in order),
// freeing all blocks, so the KV pool can be rebuilt without losing a request.
func (s *Scheduler) PreemptAll() ([]*Sequence, error) {
	var out []*Sequence
	for len(s.running) > 0 {
		seq := s.running[len(s.running)-1]
		if err := s.preempt(seq); err != nil {
			return out, err
		}
		out = append(out, seq)
	}
	return out, nil
}

// Drain removes every unfinished sequence (the engine is stopping).
func (s *Scheduler) Drain() []*Sequence {
	out := append(append([]*Sequence(nil), s.running...), s.waiting...)
	for _, seq := range s.running {
		_ = s.blocks.Release(seq)
	}
	s.running, s.waiting = nil, nil
	return out
}
