package cpu

// Sustained rates of one core, FLOP/s, as the model's forward pass achieves
// them with its real sizes (weights and KV caches far larger than the CPU's
// caches), measured on a 2-core AVX2 Xeon with opt-125m and tiny: matrix
// multiplies through the AVX2/FMA micro-kernel or the pure-Go loop, and
// attention over the paged cache (4·head size FLOPs per query, cached token
// and head). Constants rather than a measurement at start-up, so the auto
// step budget is the same on every run of a machine; conservative, so a
// faster core only makes steps shorter.
const (
	coreMatmulVector = 20e9
	coreMatmulScalar = 3e9
	coreAttention    = 0.25e9
)

// EstimatedFLOPS is the sustained rate of the whole backend, every thread
// together, on matrix multiplies and on attention: the engine sizes its
// auto step budget from them.
func (b *Backend) EstimatedFLOPS() (matmul, attention float64) {
	per := coreMatmulScalar
	if haveFMA {
		per = coreMatmulVector
	}
	return per * float64(b.threads), coreAttention * float64(b.threads)
}
