package model

import "benchtop/kernels"

// Model is one family's model on a backend: OPT or the Llama family
// (Llama, Mistral, Qwen2, Qwen3). Each is a plain struct whose fields are
// weights bound by name from a checkpoint, with one forward pass written
// against kernels.Backend.
type Model interface {
	// Forward runs one engine step: every token of b through the decoder,
	// writing its K and V into kv, and returns the logits
	// [b.NumLogits(), vocab] (fp32, a view into ws) of the sequences that
	// need them.
	Forward(be kernels.Backend, b *kernels.Batch, kv *KVCache, ws *Workspace) (kernels.Tensor, error)
	// Free releases every weight.
	Free(be kernels.Backend)
	// WeightBytes is the device memory the weights take.
	WeightBytes() int64
	// Fuses says whether Forward runs the fused decode path on be for steps
	// of rows tokens (fused.go); the per-kernel path otherwise.
	Fuses(be kernels.Backend, rows int) bool
}

// Load validates cfg, binds every weight it names from src and uploads it
// to be in dtype dt, as the family cfg's architecture belongs to. A
// missing or misshapen weight is an error naming it; tensors the model
// does not use are never read.
func Load(be kernels.Backend, cfg Config, src Source, dt kernels.DType) (Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.IsLlama() {
		m, err := loadLlama(be, cfg, src, dt)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	m, err := loadOPT(be, cfg, src, dt)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// checkpointTensors lists every tensor a checkpoint of cfg holds, by full
// name, with its shape.
func checkpointTensors(cfg Config) (map[string][]int, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.IsLlama() {
		return llamaCheckpoint(cfg), nil
	}
	m := &OPT{Cfg: cfg, Layers: make([]Layer, cfg.NumLayers)}
	if cfg.HasFinalNorm() {
		m.FinalNorm = &Norm{}
	}
	out := map[string][]int{}
	for _, p := range m.params() {
		out["model.decoder."+p.name] = p.shape
	}
	return out, nil
}
