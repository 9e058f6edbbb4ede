package kernels

import (
	"errors"
	"fmt"
)

// DType is the element type of a device tensor.
type DType int

const (
	F32 DType = iota
	F16
	BF16
)

// Size is the number of bytes one element takes.
func (d DType) Size() int {
	if d == F32 {
		return 4
	}
	return 2
}

func (d DType) String() string {
	switch d {
	case F32:
		return "fp32"
	case F16:
		return "fp16"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("dtype(%d)", int(d))
}

// Tensor is a dense row-major buffer owned by a Backend.
type Tensor interface {
	Shape() []int
	DType() DType
}

// MaxNumel is the most elements a tensor may have: 2⁴⁸, far beyond any
// device, and small enough that its size in bytes never overflows.
const MaxNumel = 1 << 48

// Numel is the element count of a shape, or -1 when a dimension is
// negative or the count exceeds MaxNumel (computed without overflow).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > MaxNumel/d) {
			return -1
		}
		n *= d
	}
	return n
}

// DeviceInfo describes what a backend runs on.
type DeviceInfo struct {
	Backend     string // "cpu" or "cuda"
	Name        string // e.g. "NVIDIA H100 80GB HBM3" or "CPU (2 threads)"
	MemoryBytes int64  // total memory the KV pool is sized against
	// ComputeDType is the dtype the device computes in by default: fp32 on
	// the CPU backend (whatever its weights were rounded to); fp16 on CUDA,
	// which also computes in bf16 when the model's tensors are bf16.
	ComputeDType DType
	CUDAGraphs   bool // whether decode can be replayed from captured graphs
}

// SeqSlice is one sequence's share of a step's flattened token batch.
type SeqSlice struct {
	QueryStart int     // index of the first scheduled token in Batch.Tokens
	QueryLen   int     // scheduled tokens this step (1 for decode)
	ContextLen int     // tokens in the KV cache after this step, including these
	BlockTable []int32 // physical block of each logical block
	NeedLogits bool    // the last scheduled token ends the known tokens: sample after it
}

// Batch is the per-step metadata every kernel of a step reads. Tokens of all
// sequences are flattened; each token has an absolute position and a KV slot
// (physical block × BlockSize + offset).
type Batch struct {
	Tokens    []int32
	Positions []int32
	Slots     []int32
	Seqs      []SeqSlice
	BlockSize int
	// BlockTableStride is the row length of the block-table matrix a device
	// backend uploads: the most blocks any sequence can have. Keeping it fixed
	// keeps a captured graph's layout valid. 0: the longest table in Seqs.
	BlockTableStride int
	// NumReal, when set, says only the first NumReal sequences are real and
	// the rest pad the batch to a graph bucket.
	NumReal int
	// Greedy says every sequence that needs logits samples greedily
	// (temperature 0): a model may then return the greedy tokens instead of
	// the logits (DecodeFuser.FusedArgmax), which Sample reads back.
	Greedy bool
}

// NumLogits is how many sequences need logits this step.
func (b *Batch) NumLogits() int {
	n := 0
	for i := range b.Seqs {
		if b.Seqs[i].NeedLogits {
			n++
		}
	}
	return n
}

// SampleParams are one sequence's sampling settings for one token.
// Temperature 0 means greedy. TopK 0 and TopP 1 disable those filters.
// Seed and Step make the draw reproducible: the same (Seed, Step) gives the
// same uniform number on every backend.
type SampleParams struct {
	Temperature float32
	TopK        int
	TopP        float32
	Seed        uint64
	Step        uint64
}

// AttnShape is one attention layer's geometry. A token's row of the fused
// QKV projection is [Q: NumHeads·HeadDim | K: NumKVHeads·HeadDim |
// V: NumKVHeads·HeadDim]; the KV caches hold K and V rows of
// NumKVHeads·HeadDim. NumHeads == NumKVHeads is multi-head attention,
// NumHeads a multiple of NumKVHeads is grouped-query attention.
type AttnShape struct {
	NumHeads   int
	NumKVHeads int
	HeadDim    int
	Scale      float32 // applied to q·k (1 when the scale is folded into Q)
}

// QWidth is the width of a token's queries (and of attention's output).
func (s AttnShape) QWidth() int { return s.NumHeads * s.HeadDim }

// KVWidth is the width of a token's keys (or values): a KV-cache row.
func (s AttnShape) KVWidth() int { return s.NumKVHeads * s.HeadDim }

// QKVWidth is the width of a token's fused QKV row.
func (s AttnShape) QKVWidth() int { return s.QWidth() + 2*s.KVWidth() }

// Validate rejects a geometry no kernel can run.
func (s AttnShape) Validate() error {
	switch {
	case s.NumHeads < 1 || s.NumKVHeads < 1 || s.HeadDim < 1:
		return fmt.Errorf("attention shape %d heads, %d KV heads, head size %d: each must be positive", s.NumHeads, s.NumKVHeads, s.HeadDim)
	case s.NumHeads%s.NumKVHeads != 0:
		return fmt.Errorf("attention shape: %d heads are not a multiple of %d KV heads", s.NumHeads, s.NumKVHeads)
	}
	return nil
}

// QKVPrep is what WriteKV does to each token's fused QKV row before it
// stores K and V, in this order. The zero value adds nothing and rotates
// nothing (OPT, whose bias is its only step, and whose scale is folded into
// its Q weights).
type QKVPrep struct {
	// Bias [QKVWidth] is added to the row (Qwen2's q/k/v biases, OPT's).
	Bias Tensor
	// QNorm and KNorm [HeadDim] are RMSNorm weights applied to every Q
	// head and every K head (Qwen3), with NormEps; nil: no such norm.
	QNorm, KNorm Tensor
	NormEps      float32
	// InvFreq [HeadDim/2] fp32 are rotary inverse frequencies: Q and K
	// heads are rotated in Hugging Face's rotate-half layout, pairing
	// element i with i+HeadDim/2 at angle float32(position)·InvFreq[i]
	// (fp32 product, as transformers computes it); nil: no rotary embedding.
	InvFreq Tensor
	// QScale multiplies Q last (the Llama family folds 1/sqrt(head_dim)
	// here and passes Scale 1 to Attention); 0 means 1.
	QScale float32
}

// ErrOutOfMemory is returned when a backend cannot allocate a tensor.
var ErrOutOfMemory = errors.New("out of device memory")

// Backend is the device: memory and the kernels the model runner needs.
// Weight matrices follow Hugging Face's Linear layout, [out, in].
type Backend interface {
	Info() DeviceInfo
	// MemoryInUse is the bytes currently allocated by this backend.
	MemoryInUse() int64
	// MemoryInfo is the device's free and total memory as it reports them
	// (other processes' allocations included).
	MemoryInfo() (free, total int64)

	Alloc(dt DType, shape ...int) (Tensor, error)
	Free(t Tensor)
	// View is the first rows of t (over its first dimension), sharing its
	// memory: workspaces are allocated once at their largest and viewed at
	// each step's size.
	View(t Tensor, rows int) (Tensor, error)
	Upload(dst Tensor, src []float32) error
	Download(src Tensor) ([]float32, error)

	// SetBatch makes b the metadata of the next kernels (a device backend
	// uploads it once per step).
	SetBatch(b *Batch) error

	// Embed writes out[i] = tok[Tokens[i]] + pos[Positions[i]+posOffset].
	// Either table may be nil (not both).
	Embed(out, tok, pos Tensor, posOffset int) error
	// LayerNorm normalises each row of x into out with weight w and bias b
	// (both nil: no affine). out may alias x.
	LayerNorm(out, x, w, b Tensor, eps float32) error
	// Linear computes out = x·wᵀ + bias (bias may be nil); x [n,in], w [out,in].
	Linear(out, x, w, bias Tensor) error
	// BiasAct computes x = act(x + bias) in place, act ReLU when relu is set;
	// bias [cols] may be nil.
	BiasAct(x, bias Tensor, relu bool) error
	// ResidualLayerNorm computes h += x + bias (bias may be nil), then, when
	// out is not nil, out = LayerNorm(h) with w and b (nil: no affine). out
	// may alias h (a post-LN model).
	ResidualLayerNorm(h, x, bias, out, w, b Tensor, eps float32) error
	// ResidualRMSNorm computes h += x when x is not nil, then
	// out = h / sqrt(mean(h²) + eps) · w over each row (w [cols]); h, x and
	// out are [n, cols] (out may alias h). It ends a Llama block: the
	// residual add and the next RMSNorm in one pass.
	ResidualRMSNorm(h, x, out, w Tensor, eps float32) error
	// SwiGLU computes out[r, c] = silu(gu[r, c]) · gu[r, f+c] for
	// gu [n, 2f] (the fused [gate | up] projection) and out [n, f].
	SwiGLU(out, gu Tensor) error
	// WriteKV prepares qkv [n, s.QKVWidth()] in place as p says (bias,
	// per-head Q/K RMSNorm, rotary embedding at the batch's positions, Q
	// scale, in that order) and stores each token's K and V parts at its slot
	// of the caches kc and vc [numSlots, s.KVWidth()] (a negative slot:
	// padding, prepared but not stored).
	WriteKV(kc, vc, qkv Tensor, s AttnShape, p QKVPrep) error
	// Attention computes causal attention of the Q part of qkv
	// [n, s.QKVWidth()] over each sequence's cached keys and values (written
	// before this call) into out [n, s.QWidth()]: query head h reads KV head
	// h / (NumHeads/NumKVHeads), and scores are q·k × s.Scale.
	Attention(out, qkv, kc, vc Tensor, s AttnShape) error
	// GatherLast copies the row of the last scheduled token of each sequence
	// that needs logits into out [NumLogits, cols].
	GatherLast(out, x Tensor) error
	// Sample draws one token for each of the first len(params) rows of
	// logits [rows, vocab] (rows may exceed len(params): padding).
	Sample(logits Tensor, params []SampleParams) ([]int32, error)
	// Sync waits for queued device work and reports its error.
	Sync() error
	Close() error
}

// Grapher is a backend that can capture a step's work once and replay it
// (CUDA graphs). Graph runs fn, which enqueues the step for b, under capture
// the first time a key is seen, and replays the capture afterwards with b's
// metadata; b must have the same shape for the same key.
type Grapher interface {
	Graph(key int, b *Batch, fn func() (Tensor, error)) (Tensor, error)
	// ResetGraphs drops every capture (the buffers they used were freed).
	ResetGraphs()
}

// Timer is a backend that measures device time between two marks.
type Timer interface {
	MarkStart() error
	// MarkEnd returns the device time since MarkStart (waits for the device).
	MarkEnd() (float64, error)
}

// Ceilings are a device's measured limits: what the roofline is drawn from.
type Ceilings struct {
	BandwidthBytesPerSec float64 // device-to-device copy, read + write counted
	MatmulFlopsPerSec    float64 // a large fp16 GEMM with fp32 accumulation
}

// CeilingMeter is a backend that can measure its own ceilings.
type CeilingMeter interface {
	MeasureCeilings() (Ceilings, error)
}

// Act is the activation a fused GEMM epilogue applies.
type Act int

const (
	ActNone Act = iota
	ActReLU
)

func (a Act) String() string {
	switch a {
	case ActNone:
		return "none"
	case ActReLU:
		return "relu"
	}
	return fmt.Sprintf("act(%d)", int(a))
}

// LinearEpiloguer is a backend that fuses a Linear's epilogue into the GEMM
// (one kernel instead of a GEMM and an elementwise pass, where it pays).
type LinearEpiloguer interface {
	// LinearEpilogue computes out = act(x·wᵀ + bias) + residual for x
	// [n, in], w [out, in], bias [out] and residual [n, out] (either may be
	// nil); out [n, out] has x's dtype. residual may alias out (h += ...);
	// x may not. Where it pays in a decoder layer: OPT's FC1 + bias + ReLU,
	// out-proj + bias + residual and FC2 + bias + residual; Llama's o-proj
	// and down-proj + residual.
	LinearEpilogue(out, x, w, bias, residual Tensor, act Act) error
}

// ArgmaxLinearer is a backend that fuses the LM head with greedy sampling.
type ArgmaxLinearer interface {
	// ArgmaxLinear returns, for each row of x [n, in], the index of the
	// largest entry of x·wᵀ (w [vocab, in]) — the greedy token, the lowest
	// index on ties as Argmax — without writing the logits. It waits for the
	// device. Rows that sample with a temperature still need the logits and
	// Sample.
	ArgmaxLinear(x, w Tensor) ([]int32, error)
}

// PrologueKind is what a fused GEMM does to each row of its input first.
type PrologueKind int

const (
	ProNone      PrologueKind = iota
	ProLayerNorm              // (x − mean) / sqrt(var + Eps) · W + B
	ProRMSNorm                // x / sqrt(mean(x²) + Eps) · W
	ProSwiGLU                 // x = [gate | up] of twice the GEMM's input width: silu(gate) · up
)

func (k PrologueKind) String() string {
	switch k {
	case ProNone:
		return "none"
	case ProLayerNorm:
		return "layernorm"
	case ProRMSNorm:
		return "rmsnorm"
	case ProSwiGLU:
		return "swiglu"
	}
	return fmt.Sprintf("prologue(%d)", int(k))
}

// Prologue is a fused GEMM's prologue: its kind and, for the norms, their
// weight W and bias B ([in]; B LayerNorm only; both nil: no affine) and
// epsilon. A device backend rounds the prologue's output to the input's
// dtype, as the separate kernel it replaces stores it.
type Prologue struct {
	Kind PrologueKind
	W, B Tensor
	Eps  float32
}

// DecodeFuser is a backend whose small-M GEMMs fuse a prologue as well as
// an epilogue, so that a decoder layer's norms and activations ride on its
// GEMMs: each norm in the prologue of the GEMM that reads it, each residual
// add in the epilogue of the GEMM that produces it, SwiGLU in the down
// projection's prologue, and the final norm and the greedy argmax on the
// LM head. The model runs this path only for steps FusesDecode accepts and
// keeps its per-kernel path, the reference, for the others.
type DecodeFuser interface {
	// FusesDecode says whether FusedLinear and FusedArgmax each run as one
	// kernel for rows rows of activations whose prologue inputs are at most
	// width wide (SwiGLU's: its output width).
	FusesDecode(rows, width int) bool
	// FusedLinear computes out = act(p(x)·wᵀ + bias) + residual for x
	// [n, in] (SwiGLU: [n, 2·in]), w [out, in], bias [out], residual
	// [n, out] (either may be nil). residual may alias out (h += ...); x
	// may not. out is x's dtype, or fp32 (logits, with no bias, residual or
	// activation).
	FusedLinear(out, x, w, bias, residual Tensor, p Prologue, act Act) error
	// FusedQKV is FusedLinear for a layer's QKV projection, qkv = p(x)·wᵀ
	// + bias (qkv [n, s.QKVWidth()]), that also stores each token's K and V
	// parts at its slot of kc and vc [numSlots, s.KVWidth()] as WriteKV does
	// with a QKVPrep of the bias alone (a negative slot: not stored).
	FusedQKV(qkv, x, w, bias, kc, vc Tensor, s AttnShape, p Prologue) error
	// FusedArgmax enqueues the greedy token of each row of p(x)·wᵀ (w
	// [vocab, in]; the lowest index on ties, as Argmax) into ids, a
	// [n, 2] fp32 tensor of the backend's, without writing the logits.
	// Sample of ids with params that are all greedy returns those tokens.
	FusedArgmax(ids, x, w Tensor, p Prologue) error
}

// PrefillWarmer is a backend whose GEMMs run a prefill step at one of a
// ladder of row counts (its GEMM library pays on the host for each shape's
// first call): the engine runs a step of each listed size once at start-up,
// so no request meets a shape first.
type PrefillWarmer interface {
	// WarmTokenCounts lists the step sizes to run, up to maxTokens.
	WarmTokenCounts(maxTokens int) []int
}
