package engine

import (
	"errors"
	"strings"
	"testing"

	"benchtop/engine/model"
	"benchtop/kernels"
	"benchtop/kernels/cpu"
)

// Sizes from flags are range-checked, and sizes computed from them never
// overflow: a clear error naming the flag, never a panic.
func TestSizesAreCheckedNotOverflowed(t *testing.T) {
	for _, c := range []struct {
		f    func(*Config)
		want string
	}{
		{func(c *Config) { c.MaxNumBatchedTokens = 288230376151711745 }, "max-num-batched-tokens 288230376151711745: must be between 1 and 16777216"},
		{func(c *Config) { c.MaxNumSeqs = 1 << 40 }, "max-num-seqs"},
		{func(c *Config) { c.MaxModelLen = 1 << 62 }, "max-model-len"},
		{func(c *Config) { c.BlockSize = 1 << 31 }, "block-size"},
		{func(c *Config) { c.GPUMemoryUtilization = 1.5 }, "gpu-memory-utilization"},
		{func(c *Config) { c.MaxNumSeqs = -1 }, "max-num-seqs"},
	} {
		cfg := DefaultConfig()
		c.f(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", cfg, err, c.want)
		}
	}
	// The largest budget Validate takes, on a small device: the workspace
	// is refused before anything is allocated.
	cfg := DefaultConfig()
	cfg.MaxNumBatchedTokens, cfg.MaxNumSeqs = MaxMaxNumBatchedTokens, MaxMaxNumSeqs
	be := cpu.New(1 << 30)
	mc := testModelConfig()
	m, err := model.Load(be, mc, model.NewSyntheticSource(mc, 7), kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(be, &model.Loaded{Model: m, Cfg: mc, DType: kernels.F32, ComputeDType: kernels.F32, Synthetic: true, Source: "test"}, cfg)
	if err == nil || !strings.Contains(err.Error(), "max-num-batched-tokens 16777216") || !strings.Contains(err.Error(), "--cpu-memory") {
		t.Fatalf("%v, want the workspace refused naming the flags", err)
	}
	if n, ok := workspaceBytes(&mc, 1<<62, 1<<62, kernels.F32); ok {
		t.Fatalf("workspace of 2⁶² tokens: %d bytes, no overflow reported", n)
	}
}

// The CPU backend's budget is checked against the machine: asking for more
// than it has is an error naming --cpu-memory, not the runtime's crash.
func TestCPUMemoryBeyondTheMachineIsAnError(t *testing.T) {
	if _, _, known := cpu.AvailableMemory(); !known {
		t.Skip("this platform does not say how much memory is available")
	}
	_, _, err := OpenBackend("cpu", 100000<<30)
	if !errors.Is(err, cpu.ErrMachineMemory) || !strings.Contains(err.Error(), "--cpu-memory") {
		t.Fatalf("--cpu-memory 100000 GiB: %v", err)
	}
	be, _, err := OpenBackend("cpu", 0)
	if err != nil || be.Info().MemoryBytes <= 0 {
		t.Fatalf("auto budget: %v", err)
	}
}

// workspaceBytes mirrors model.NewWorkspace: what it predicts is what the
// backend allocates.
func TestWorkspaceBytesMatchesTheAllocation(t *testing.T) {
	be := cpu.New(1 << 30)
	mc := testModelConfig()
	before := be.MemoryInUse()
	ws, err := model.NewWorkspace(be, &mc, 100, 7, kernels.F32)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Free(be)
	if got, _ := workspaceBytes(&mc, 100, 7, kernels.F32); got != be.MemoryInUse()-before {
		t.Fatalf("predicted %d bytes, allocated %d", got, be.MemoryInUse()-before)
	}
}
