package metrics

import (
	"strings"
	"testing"
	"time"
)

// Each kind of bad --slo gets its own message, naming the part.
func TestParseSLOErrorsSayWhatIsWrong(t *testing.T) {
	for in, want := range map[string]string{
		"ttft=-5ms":                  `"ttft=-5ms": the duration must be positive (above 0); leave ttft out to set no objective`,
		"ttft=0":                     `"ttft=0": the duration must be positive`,
		"tpot=0s":                    `"tpot=0s": the duration must be positive`,
		"e2e=-0.5s":                  `"e2e=-0.5s": the duration must be positive`,
		"ttft=NaNs":                  `"ttft=NaNs": "NaNs" is not a duration; want a number and a unit (ns, us, ms, s, m, h), e.g. ttft=200ms`,
		"ttft=NaN":                   `"NaN" is not a duration`,
		"ttft=Infms":                 `"Infms" is not a duration`,
		"ttft=soon":                  `"soon" is not a duration`,
		"ttft=5 ms":                  `"5 ms" is not a duration`,
		"ttft=200":                   `"ttft=200": 200 has no unit; want one of ns, us, ms, s, m, h, e.g. ttft=200ms`,
		"ttft=-":                     `"-" is not a duration`,
		"ttft=1e18h":                 `"1e18h" is not a duration`,
		"ttft=9223372036854775808ns": `"ttft=9223372036854775808ns": 9223372036854775808ns is too long: an objective is at most 24h0m0s`,
		"e2e=3000000h":               `"e2e=3000000h": 3000000h is too long: an objective is at most 24h0m0s`,
		"e2e=25h":                    `"e2e=25h": 25h is too long: an objective is at most 24h0m0s`,
		"latency=1s":                 `"latency=1s": unknown objective "latency"; the objectives are ttft, tpot, e2e`,
		"=1s":                        `unknown objective ""`,
		"ttft":                       `"ttft": want name=duration, e.g. ttft=200ms`,
		"ttft=":                      `"ttft=": no duration; want e.g. ttft=200ms`,
		"ttft=1s,ttft=2s":            `"ttft=2s": ttft is given twice (first as ttft=1s)`,
		"TTFT=1s, ttft=2s":           `ttft is given twice (first as TTFT=1s)`,
		"ttft=1s,,e2e=2s":            `"ttft=1s,,e2e=2s": an empty objective (a comma too many?)`,
		"ttft=1s,":                   `an empty objective`,
	} {
		slo, err := ParseSLO(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSLO(%q) = %+v, %v; want an error with %q", in, slo, err, want)
		}
	}
	for in, want := range map[string]SLO{
		"":                                 {},
		"  ":                               {},
		" TTFT = 200ms , tpot=50ms,E2E=2s": {TTFT: 200 * time.Millisecond, TPOT: 50 * time.Millisecond, E2E: 2 * time.Second},
		"e2e=24h":                          {E2E: 24 * time.Hour},
		"tpot=1ns":                         {TPOT: 1},
		"ttft=+1.5s":                       {TTFT: 1500 * time.Millisecond},
	} {
		if got, err := ParseSLO(in); err != nil || got != want {
			t.Errorf("ParseSLO(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}
