package metrics

import (
	"testing"
	"time"
)

func TestSLOAndGoodput(t *testing.T) {
	slo, err := ParseSLO("ttft=100ms, tpot=20ms,e2e=1s")
	if err != nil || slo.TTFT != 100*time.Millisecond || slo.TPOT != 20*time.Millisecond || slo.E2E != time.Second {
		t.Fatalf("%+v %v", slo, err)
	}
	for _, bad := range []string{"ttft", "ttft=fast", "ttft=-1s", "latency=1s"} {
		if _, err := ParseSLO(bad); err == nil {
			t.Errorf("ParseSLO(%q) accepted", bad)
		}
	}
	ms := time.Millisecond
	recs := []RequestRecord{
		{OutputTokens: 10, TTFT: 50 * ms, TPOT: 10 * ms, E2E: 140 * ms},  // meets all
		{OutputTokens: 10, TTFT: 150 * ms, TPOT: 10 * ms, E2E: 240 * ms}, // TTFT missed
		{OutputTokens: 10, TTFT: 50 * ms, TPOT: 30 * ms, E2E: 320 * ms},  // TPOT missed
		{OutputTokens: 1, TTFT: 90 * ms, E2E: 90 * ms},                   // one token: TPOT does not apply
		{OutputTokens: 0}, // nothing produced: never meets
	}
	s := Summarise(recs, 2*time.Second, nil, slo)
	if s.Attainment != 0.4 || s.Goodput != 1 {
		t.Fatalf("attainment %g (want 0.4), goodput %g (want 1)", s.Attainment, s.Goodput)
	}
	if none := Summarise(recs, time.Second, nil, SLO{}); none.Goodput != 0 || none.Attainment != 0 {
		t.Fatal("goodput without an SLO")
	}
}
