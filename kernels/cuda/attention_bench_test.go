package cuda

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"text/tabwriter"

	"benchtop/kernels"
)

var attnBench = flag.Bool("attn.bench", false, "print the attention micro-benchmark tables (needs a GPU)")

// benchShape is one model's attention geometry.
type benchShape struct {
	name string
	sh   kernels.AttnShape
	dt   kernels.DType
	old  bool // the legacy kernel takes it (multi-head fp16, head size a multiple of 32)
}

func benchShapes() []benchShape {
	return []benchShape{
		{"opt-125m 12×64 MHA fp16", kernels.AttnShape{NumHeads: 12, NumKVHeads: 12, HeadDim: 64, Scale: 1}, kernels.F16, true},
		{"llama-3.2-1b 32/8×64 fp16", kernels.AttnShape{NumHeads: 32, NumKVHeads: 8, HeadDim: 64, Scale: 0.125}, kernels.F16, false},
		{"qwen3-0.6b 16/8×128 bf16", kernels.AttnShape{NumHeads: 16, NumKVHeads: 8, HeadDim: 128, Scale: 0.0884}, kernels.BF16, false},
	}
}

// benchRig holds one shape's caches, sized for the largest step, and the
// queries and output of up to maxTokens tokens.
type benchRig struct {
	b          *Backend
	s          benchShape
	kc, vc     kernels.Tensor
	qkv, out   kernels.Tensor
	numBlocks  int
	perm       []int // blocks in the order steps hand them out: paged, not contiguous
	stride, bs int
}

const (
	benchBlockSize = 16
	benchMaxLen    = 8192
)

func newBenchRig(t *testing.T, b *Backend, s benchShape, maxKeys, maxTokens int) *benchRig {
	r := &benchRig{b: b, s: s, bs: benchBlockSize, stride: benchMaxLen / benchBlockSize}
	r.numBlocks = maxKeys/benchBlockSize + 1024
	rows := r.numBlocks * benchBlockSize
	var err error
	alloc := func(rows, cols int) kernels.Tensor {
		x, e := b.Alloc(s.dt, rows, cols)
		if e != nil && err == nil {
			err = e
		}
		return x
	}
	r.kc, r.vc = alloc(rows, s.sh.KVWidth()), alloc(rows, s.sh.KVWidth())
	r.qkv, r.out = alloc(maxTokens, s.sh.QKVWidth()), alloc(maxTokens, s.sh.QWidth())
	if err != nil {
		t.Fatal(err)
	}
	// Random values (zeros would hide nothing here, but real data is what
	// the kernels see): one random chunk copied down each tensor.
	rng := rand.New(rand.NewPCG(5, 6))
	const chunk = 1 << 20
	vals := make([]float32, chunk)
	for i := range vals {
		vals[i] = float32(rng.NormFloat64())
	}
	for _, x := range []kernels.Tensor{r.kc, r.vc, r.qkv} {
		n := kernels.Numel(x.Shape())
		first := min(chunk, n)
		head, _ := b.View(x, first/x.Shape()[1])
		if err := b.Upload(head, vals[:kernels.Numel(head.Shape())]); err != nil {
			t.Fatal(err)
		}
		hb := uint64(kernels.Numel(head.Shape()) * 2)
		for off := hb; off < uint64(n*2); off += hb {
			must(t, b.d.check(b.d.cuMemcpyDtoDAsync(ptr(x)+uintptr(off), ptr(x), min(hb, uint64(n*2)-off), b.stream), "fill"))
		}
	}
	must(t, b.Sync())
	r.perm = rng.Perm(r.numBlocks)
	return r
}

func (r *benchRig) free() {
	for _, x := range []kernels.Tensor{r.kc, r.vc, r.qkv, r.out} {
		r.b.Free(x)
	}
}

// batch lays out one step: specs over the shuffled blocks.
func (r *benchRig) batch(specs []seqSpec) *kernels.Batch {
	b := &kernels.Batch{BlockSize: r.bs, BlockTableStride: r.stride}
	next := 0
	for _, s := range specs {
		table := make([]int32, (s.ctx+r.bs-1)/r.bs)
		for i := range table {
			table[i] = int32(r.perm[next%len(r.perm)])
			next++
		}
		start := len(b.Tokens)
		for p := s.ctx - s.qlen; p < s.ctx; p++ {
			b.Tokens = append(b.Tokens, 0)
			b.Positions = append(b.Positions, int32(p))
			b.Slots = append(b.Slots, table[p/r.bs]*int32(r.bs)+int32(p%r.bs))
		}
		b.Seqs = append(b.Seqs, kernels.SeqSlice{QueryStart: start, QueryLen: s.qlen, ContextLen: s.ctx, BlockTable: table, NeedLogits: true})
	}
	return b
}

// time is the device time of one call of f, in ms: the median of a few
// timed runs of enough back-to-back calls to fill about 5 ms.
func (r *benchRig) time(t *testing.T, f func() error) float64 {
	must(t, f())
	must(t, r.b.MarkStart())
	must(t, f())
	one, err := r.b.MarkEnd()
	must(t, err)
	reps := int(min(max(5/max(one, 1e-3), 3), 500))
	var runs []float64
	for range 3 {
		must(t, r.b.MarkStart())
		for range reps {
			must(t, f())
		}
		ms, err := r.b.MarkEnd()
		must(t, err)
		runs = append(runs, ms/float64(reps))
	}
	return median(runs)
}

func median(x []float64) float64 {
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			if x[j] < x[i] {
				x[i], x[j] = x[j], x[i]
			}
		}
	}
	return x[len(x)/2]
}

func (r *benchRig) step(t *testing.T, specs []seqSpec) (n int) {
	b := r.batch(specs)
	must(t, r.b.SetBatch(b))
	return len(b.Tokens)
}

func (r *benchRig) views(n int) (out, qkv kernels.Tensor) {
	out, _ = r.b.View(r.out, n)
	qkv, _ = r.b.View(r.qkv, n)
	return out, qkv
}

func (r *benchRig) newCall(n int) func() error {
	out, qkv := r.views(n)
	return func() error { return r.b.Attention(out, qkv, r.kc, r.vc, r.s.sh) }
}

func (r *benchRig) oldCall(n int) func() error {
	out, qkv := r.views(n)
	return func() error { return r.b.legacyAttention(out, qkv, r.kc, r.vc, r.s.sh.NumHeads) }
}

// kvBytes is what a step must read of the cache: every context's K and V.
func (r *benchRig) kvBytes(specs []seqSpec) float64 {
	keys := 0
	for _, s := range specs {
		keys += s.ctx
	}
	return float64(keys) * float64(r.s.sh.KVWidth()) * 2 * float64(r.s.dt.Size())
}

func uniform(batch, ctx int) []seqSpec {
	specs := make([]seqSpec, batch)
	for i := range specs {
		specs[i] = seqSpec{1, ctx}
	}
	return specs
}

// chatMix is a decode step of the chat workload: 256 sequences with
// ShareGPT-like contexts (log-normal, median about 250, 16 to 2,048).
func chatMix() []seqSpec {
	rng := rand.New(rand.NewPCG(11, 12))
	specs := make([]seqSpec, 256)
	for i := range specs {
		c := int(math.Exp(math.Log(250) + 0.8*rng.NormFloat64()))
		specs[i] = seqSpec{1, min(max(c, 16), 2048)}
	}
	return specs
}

// TestAttentionBench prints the decode micro-benchmark (contexts × batch
// sizes, KV bytes read and the bandwidth reached against the card's
// measured copy bandwidth, the legacy kernel beside the new one where it
// takes the shape), a sweep of the decode split's knobs, and a prefill
// table. A benchmark, not a test: it fails only on errors.
//
//	bin/cuda.test -test.run AttentionBench -attn.bench -test.v
func TestAttentionBench(t *testing.T) {
	if !*attnBench {
		t.Skip("the attention micro-benchmark runs with -attn.bench")
	}
	if emulated {
		t.Skip("not on the emulator")
	}
	b, err := Open()
	if err != nil {
		t.Skipf("no GPU: %v", err)
	}
	defer b.Close()
	ceil, err := b.MeasureCeilings()
	must(t, err)
	copyBW := ceil.BandwidthBytesPerSec
	maj, mnr := b.ComputeCapability()
	fmt.Printf("\nattention micro-benchmark on %s (sm_%d%d, %d SMs): copy bandwidth %.2f TB/s (read + write), fp16 GEMM %.0f TFLOP/s\n",
		b.name, maj, mnr, b.sms, copyBW/1e12, ceil.MatmulFlopsPerSec/1e12)
	contexts := []int{512, 1024, 2048, 4096, 8192}
	batches := []int{1, 8, 32, 64, 128, 256}

	decode := tabwriter.NewWriter(os.Stdout, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(decode, "\ndecode\tctx\tbatch\tKV MB\told µs\told GB/s\tnew µs\tnew GB/s\t% of copy\tspeedup\t")
	tune := &strings.Builder{}
	tw := tabwriter.NewWriter(tune, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\nsplit knobs\tctx\tbatch\tCTAs/SM\ttarget\tmin chunk\tnew µs\t% of copy\t")
	prefill := &strings.Builder{}
	pw := tabwriter.NewWriter(prefill, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(pw, "\nprefill\tprompt\tseqs\ttokens\told ms\tnew ms\tnew Mtok/s\tTFLOP/s\t% of GEMM\t")

	for _, s := range benchShapes() {
		r := newBenchRig(t, b, s, 256*8192, 16384)
		row := func(label string, specs []seqSpec) {
			n := r.step(t, specs)
			bytes := r.kvBytes(specs)
			newMs := r.time(t, r.newCall(n))
			oldUs, oldBW, speed := "—", "—", "—"
			if s.old {
				oldMs := r.time(t, r.oldCall(n))
				oldUs, oldBW = fmt.Sprintf("%.1f", oldMs*1e3), fmt.Sprintf("%.0f", bytes/oldMs/1e6)
				speed = fmt.Sprintf("%.1f×", oldMs/newMs)
			}
			ctx, batch := fmt.Sprint(specs[0].ctx), fmt.Sprint(len(specs))
			if label != "" {
				ctx = label
			}
			fmt.Fprintf(decode, "%s\t%s\t%s\t%.1f\t%s\t%s\t%.1f\t%.0f\t%.0f%%\t%s\t\n", s.name, ctx, batch, bytes/1e6,
				oldUs, oldBW, newMs*1e3, bytes/newMs/1e6, 100*bytes/newMs*1e3/copyBW, speed)
		}
		for _, ctx := range contexts {
			for _, batch := range batches {
				row("", uniform(batch, ctx))
			}
		}
		row("chat mix", chatMix())

		// The split's knobs at a few telling points (the defaults: saved).
		saved := [3]int{decodeCTAsPerSM, decodeTargetItems, decodeMinChunk}
		for _, pt := range [][2]int{{8192, 1}, {2048, 32}, {512, 256}, {8192, 256}} {
			specs := uniform(pt[1], pt[0])
			bytes := r.kvBytes(specs)
			for _, ctas := range []int{2, 4, 8} {
				for _, target := range []int{256, 512, 1024} {
					for _, minChunk := range []int{64, 128} {
						decodeCTAsPerSM, decodeTargetItems, decodeMinChunk = ctas, target, minChunk
						n := r.step(t, specs)
						ms := r.time(t, r.newCall(n))
						fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.0f%%\t\n", s.name, pt[0], pt[1], ctas, target, minChunk, ms*1e3, 100*bytes/ms*1e3/copyBW)
					}
				}
			}
			decodeCTAsPerSM, decodeTargetItems, decodeMinChunk = saved[0], saved[1], saved[2]
		}

		// Prefill: whole prompts, about 16k tokens a step.
		for _, prompt := range []int{512, 1024, 2048, 4096} {
			seqs := max(16384/prompt, 1)
			specs := make([]seqSpec, seqs)
			for i := range specs {
				specs[i] = seqSpec{prompt, prompt}
			}
			n := r.step(t, specs)
			newMs := r.time(t, r.newCall(n))
			oldMs := "—"
			if s.old {
				oldMs = fmt.Sprintf("%.2f", r.time(t, r.oldCall(n)))
			}
			// q·k and p·v, 2 FLOPs a multiply-add, over the causal triangle.
			pairs := float64(seqs) * float64(prompt) * float64(prompt+1) / 2
			flops := pairs * float64(s.sh.NumHeads) * float64(s.sh.HeadDim) * 4
			fmt.Fprintf(pw, "%s\t%d\t%d\t%d\t%s\t%.2f\t%.2f\t%.0f\t%.0f%%\t\n", s.name, prompt, seqs, n, oldMs, newMs,
				float64(n)/newMs/1e3, flops/newMs/1e9, 100*flops/newMs*1e3/ceil.MatmulFlopsPerSec)
		}
		r.free()
	}
	tw.Flush()
	pw.Flush()
	fmt.Print(tune.String())
	fmt.Print(prefill.String())
	decode.Flush()
	fmt.Println("\n% of copy: KV bytes read per second over the measured device-to-device copy bandwidth (which counts read and write);")
	fmt.Println("the target is 70% for contexts 512 to 8,192 at batch 1 to 256. old: the kernel this one replaced (multi-head fp16 only).")
}
