package engine

import (
	"testing"

	"benchtop/kernels/cpu"
)

// recordObs records every event it is given and how: one OnRequest each,
// or a step's tokens in one OnRequests.
type recordObs struct {
	evs     []RequestEvent
	batches int
	batched bool // implements BatchObserver
}

func (r *recordObs) OnStep(*StepEvent)            {}
func (r *recordObs) OnRequest(ev *RequestEvent)   { r.evs = append(r.evs, *ev) }
func (b *batchObs) OnRequests(evs []RequestEvent) { b.batches++; b.evs = append(b.evs, evs...) }

type batchObs struct{ recordObs }

// A BatchObserver gets a step's tokens in one call and every observer sees
// each request's events in its order: arrived, scheduled, first token,
// tokens, finished; a plain observer sees the same events one by one.
func TestBatchObserverSeesTheStepInOrder(t *testing.T) {
	plain, batch := &recordObs{}, &batchObs{}
	e := tinyEngine(t, cpu.New(2<<30), DefaultConfig())
	e.obs = append(e.obs, plain, batch)
	reqs := tinyRequests(6)
	res := mustGen(t, e, reqs)
	if batch.batches == 0 {
		t.Fatal("the batch observer was never given a step's tokens in one call")
	}
	if len(plain.evs) != len(batch.evs) {
		t.Fatalf("plain observer saw %d events, batch observer %d", len(plain.evs), len(batch.evs))
	}
	for _, obs := range [][]RequestEvent{plain.evs, batch.evs} {
		next := map[string]RequestEventKind{}
		tokens := map[string]int{}
		for _, ev := range obs {
			want, seen := next[ev.ID]
			if !seen {
				want = EvArrived
			}
			switch {
			case ev.Kind == want:
			case want == EvToken && ev.Kind == EvFinished:
			default:
				t.Fatalf("%s: %v after the events before it; want %v", ev.ID, ev.Kind, want)
			}
			switch ev.Kind {
			case EvArrived:
				next[ev.ID] = EvScheduled
			case EvScheduled:
				next[ev.ID] = EvFirstToken
			case EvFirstToken, EvToken:
				tokens[ev.ID]++
				if ev.OutputTokens != tokens[ev.ID] {
					t.Fatalf("%s: token event with %d output tokens after %d", ev.ID, ev.OutputTokens, tokens[ev.ID]-1)
				}
				next[ev.ID] = EvToken
			case EvFinished:
				next[ev.ID] = -1
			}
		}
		for _, r := range res {
			if next[r.ID] != -1 || tokens[r.ID] != len(r.Output) {
				t.Fatalf("%s: %d token events for %d tokens, finished %v", r.ID, tokens[r.ID], len(r.Output), next[r.ID] == -1)
			}
		}
	}
}
