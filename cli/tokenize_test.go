package cli

import (
	"encoding/json"
	"testing"

	"benchtop/engine/model"
)

// tokenize emits the requests the engine runs: synthetic prompts at their
// drawn lengths (not one token), every sampling parameter, offsets.
func TestTokenizeEmitsTheEngineRequests(t *testing.T) {
	var doc tokenizedDoc
	code, out, errOut := runCLI("tokenize", "--workload", "long-context", "--requests", "2")
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(doc.Requests) != 2 {
		t.Fatalf("%d requests", len(doc.Requests))
	}
	for _, r := range doc.Requests {
		if n := len(r.Prompt); n < 1501 || n > 1901 || r.MaxTokens != 32 || !r.IgnoreEOS || r.TopP != 1 || r.StopTokens == nil {
			t.Fatalf("request %s: %d prompt ids, %+v", r.ID, n, r)
		}
	}
	code, out, _ = runCLI("tokenize", "--workload", "throughput", "--requests", "3", "--arrival", "constant:10")
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("exit %d", code)
	}
	r := doc.Requests[2]
	if r.TopP != 0.95 || r.Temperature != 0.8 || r.MaxTokens != 50 || r.Prompt[0] != int32(model.Presets["opt-125m"].BOS) || r.Arrival != 200_000_000 {
		t.Fatalf("throughput request: %+v", r)
	}
}
