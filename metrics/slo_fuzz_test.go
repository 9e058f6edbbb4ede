package metrics

import "testing"

// The --slo parser never panics; what it accepts sets positive objectives
// and reads back the same from its String. Seeds: the README's form and
// issue 13's kinds of bad input (overflowing, negative, unknown, empty).
func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"ttft=200ms,tpot=50ms,e2e=2s", "ttft=1e18h", "ttft=9223372036854775807ns", "ttft=-1s", "x=1s",
		"ttft=", "=", ",", "ttft=1ns,ttft=2ns", " tpot = 5ms ", "e2e=2562047h47m16.854775807s", "ttft=0", "ttft=NaNs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slo, err := ParseSLO(s)
		if err != nil {
			return
		}
		if slo.TTFT < 0 || slo.TPOT < 0 || slo.E2E < 0 {
			t.Fatalf("%q: negative objective %+v", s, slo)
		}
		back, err := ParseSLO(slo.String())
		if err != nil || back != slo {
			t.Fatalf("%q: %+v reads back from %q as %+v, %v", s, slo, slo.String(), back, err)
		}
	})
}
