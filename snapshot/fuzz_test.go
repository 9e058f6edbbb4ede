package snapshot

import (
	"encoding/json"
	"testing"
)

// v1Seed is a v1 snapshot: Go field names in the status, the state a
// string.
const v1Seed = `{"schema":"benchtop.snapshot/v1","created":"2026-11-27T12:00:00Z","workload":"bench",
"status":{"Config":{"MaxNumSeqs":50,"BlockSize":16},"Plan":{"NumBlocks":99,"KVDType":1},"Device":{"Backend":"cuda","Name":"H100"},
"Model":"opt-125m","Synthetic":true,"State":"running","Err":""},
"changes":null,"metrics":{"finished":3,"series":[{"t_ns":0,"output_tps":5}]},"gpu":{"available":false,"reason":"no NVML","history":null},
"segments":null,"requests":[{"id":"a","output_tokens":4}]}`

// The snapshot reader never panics on any input, and what it accepts can
// be turned back into the set's CSV and Markdown and into the engine's
// status (what view and a re-export do with it). Seeds: a v2 file as
// written, the v1 layout, and the hostile values of issue 13 (null
// metrics, huge and negative numbers, a dtype and state out of range,
// files naming paths outside their folder).
func FuzzParse(f *testing.F) {
	v2, err := json.Marshal(sample().normalized())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(v2), v1Seed,
		`{"schema":"benchtop.snapshot/v2"}`,
		`{"schema":"benchtop.snapshot/v2","status":{},"metrics":null}`,
		`{"schema":"benchtop.snapshot/v2","status":{"state":"exploded","device":{"compute_dtype":"fp64"},"memory":{"kv_blocks":-1,"block_size":0,"kv_dtype":"x"}},"metrics":{"elapsed_ns":-9223372036854775808,"window_ns":9223372036854775807,"finished":-5,"series":[{"t_ns":-1,"output_tps":1e308}],"finishes":{"":-1}}}`,
		`{"schema":"benchtop.snapshot/v2","status":{},"metrics":{},"gpu":{"history":[{"gpus":[]},{"gpus":null}]},"files":[{"name":"../../etc/passwd","bytes":-1}]}`,
		`{"schema":"benchtop.snapshot/v1","status":{"Plan":{"KVDType":99,"BlockSize":-3},"State":"nope"},"metrics":{"series":null}}`,
		`{"schema":"benchtop.snapshot/v1","status":null,"metrics":{}}`,
		`[]`, `null`, `{"schema":7}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sf, err := Parse(raw)
		if err != nil {
			return
		}
		if sf.Metrics == nil || sf.Status == nil {
			t.Fatal("accepted without metrics or status")
		}
		n := sf.normalized()
		_ = seriesCSV(n)
		_ = markdown(n)
		if st := sf.Status.Engine(); st == nil {
			t.Fatal("no engine status")
		}
	})
}
