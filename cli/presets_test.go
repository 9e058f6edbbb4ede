package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"benchtop/engine"
	"benchtop/session"
	"benchtop/tui"
	"benchtop/workloads"
)

// The Llama-family presets run in every engine command on the CPU, their
// reports naming the model and what of it is a stand-in; --dtype reaches
// the model.
func TestLlamaPresetsInEveryCommand(t *testing.T) {
	for _, preset := range []string{"tiny-llama", "tiny-qwen3"} {
		t.Run(preset, func(t *testing.T) {
			t.Parallel()
			presetInEveryCommand(t, preset)
		})
	}
}

func presetInEveryCommand(t *testing.T, preset string) {
	dir := t.TempDir()
	title := preset + ", synthetic weights, GPT-2 tokenizer on cpu"
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"bench", "--requests", "4", "--warmup", "1"}, []string{"Comprehensive benchmark (" + title, "Output tokens/s"}},
		{[]string{"memory", "--dtype", "bfloat16"}, []string{"Memory efficiency (" + title, "KV per token (layers × 2 × KV heads × head size)  2 × 2 × 2 ×"}},
		{[]string{"run", "--workload", "chat", "--requests", "3", "--prompt-len", "fixed:16", "--output-len", "fixed:4", "--dtype", "float16"}, []string{"Workload chat", title}},
		{[]string{"latency"}, []string{"End-to-end latency (ms)"}},
	} {
		out := filepath.Join(dir, preset+"-"+c.args[0]+".json")
		args := append(append([]string{}, c.args...), "--model", preset, "--quiet", "--max-num-batched-tokens", "512", "--cpu-memory", "0.25", "--json", out)
		code, stdout, stderr := runCLI(args...)
		if code != 0 {
			t.Fatalf("benchtop %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("benchtop %s: output lacks %q:\n%s", strings.Join(args, " "), w, stdout)
			}
		}
		dtype := map[string]string{"memory": "in bf16 (computed in fp32)", "run": "in fp16 (computed in fp32)", "bench": "in fp32 on", "latency": "in fp32 on"}[c.args[0]]
		if !strings.Contains(stderr, "benchtop: model "+preset+" (synthetic weights, GPT-2 tokenizer)") || !strings.Contains(stderr, dtype) {
			t.Errorf("benchtop %s: the load line lacks the model's note or %q:\n%s", strings.Join(args, " "), dtype, stderr)
		}
		var j struct {
			Model            string `json:"model"`
			SyntheticWeights bool   `json:"synthetic_weights"`
		}
		raw, _ := os.ReadFile(out)
		if err := json.Unmarshal(raw, &j); err != nil || j.Model != preset || !j.SyntheticWeights {
			t.Fatalf("%s JSON: model %q, %v", c.args[0], j.Model, err)
		}
	}
	code, _, stderr := runCLI("dash", "--headless", "--duration", "500ms", "--model", preset, "--cpu-memory", "0.25",
		"--max-num-batched-tokens", "512", "--workload", "chat", "--prompt-len", "fixed:16", "--output-len", "fixed:4")
	if code != 0 || !strings.Contains(stderr, "output tok/s") {
		t.Fatalf("dash --headless on %s: exit %d: %s", preset, code, stderr)
	}
}

// The dashboard's header names the preset and says its weights are
// synthetic and its tokenizer GPT-2's.
func TestDashHeaderNamesThePreset(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.MaxNumBatchedTokens = 512
	s, err := session.Open(session.Options{Model: "tiny-llama", Device: "cpu", CPUMemoryBytes: 1 << 28, Engine: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, _ := workloads.Lookup("chat")
	if err := s.Start(w.WithCount(2)); err != nil {
		t.Fatal(err)
	}
	m := tui.New(s)
	m.SetSize(200, 40)
	header := strings.SplitN(ansi.Strip(m.Render()), "\n", 2)[0]
	if !strings.Contains(header, "tiny-llama (synthetic weights, GPT-2 tokenizer)") {
		t.Fatalf("header %q", header)
	}
}
