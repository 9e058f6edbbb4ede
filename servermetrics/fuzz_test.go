package servermetrics

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"testing"
	"time"
)

// FuzzMap: any exposition that parses maps under every server's names
// without panicking; a measure is exposed exactly when it has a source;
// estimated quantiles grow with q; the sample marshals and prints.
func FuzzMap(f *testing.F) {
	for _, name := range []string{"vllm.txt", "sglang.txt", "tgi.txt", "llamacpp.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		// Seeds are cut to about 2 KB at a line end: the fuzzer minimizes
		// every input that finds new coverage, and a 19 KB one stalls it.
		if len(b) > 2048 {
			b = b[:bytes.LastIndexByte(b[:2048], '\n')+1]
		}
		f.Add(b)
	}
	f.Add([]byte("# TYPE vllm:time_to_first_token_seconds histogram\nvllm:time_to_first_token_seconds_bucket{le=\"0.1\"} NaN\nvllm:time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n"))
	f.Add([]byte("vllm:num_requests_running{engine=\"x\"} -Inf\nsglang:token_usage{tp_rank=\"1\"} 1"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fams, err := Parse(bytes.NewReader(in), 1<<16)
		if err != nil {
			return
		}
		prev := Map(Unknown, fams, time.Unix(0, 0))
		for _, srv := range append(Servers(), Unknown) {
			s := Map(srv, fams, time.Unix(1, 0))
			s.Since(prev)
			for _, m := range Measures() {
				v := s.Get(m)
				if v.Exposed != (v.Source != "") || (!v.Exposed && (v.Value != 0 || v.HasRate)) {
					t.Fatalf("%s %s: %+v", srv, m, v)
				}
			}
			for _, h := range Hists() {
				x := s.Hist(h)
				if x.Exposed != (x.Source != "") {
					t.Fatalf("%s %s: exposed %v source %q", srv, h, x.Exposed, x.Source)
				}
				last := math.Inf(-1)
				for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 1} {
					v := x.Quantile(q)
					if math.IsNaN(v) {
						continue
					}
					if v < last-1e-9*math.Abs(last) {
						t.Fatalf("%s %s: quantile %g = %g below %g (%+v)", srv, h, q, v, last, x.Buckets)
					}
					last = v
				}
				_ = s.Window[h].Quantile(0.5)
			}
			if _, err := json.Marshal(s); err != nil {
				t.Fatalf("%s: json: %v", srv, err)
			}
			if err := s.WriteText(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
	})
}
