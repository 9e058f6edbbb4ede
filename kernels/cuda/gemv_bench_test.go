package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"benchtop/kernels"
)

// BenchmarkGemvTable is the small-M GEMM micro-benchmark: for each layer of
// the engine's models and each M, cuBLAS against every candidate variant,
// timed the way decode runs them (CUDA graphs, weights streamed from memory
// with copies that overflow L2), all in one process on one card. It prints
// a table, which variants win, what the fused epilogues and the fused argmax
// save, and the opt-125m decode step's GEMM time. Run it once:
//
//	bin/cuda.test -test.run '^$' -test.bench GemvTable -test.benchtime 1x
//
// GEMV_BENCH_DTYPES=f16 (or bf16) limits the dtypes; GEMV_CSV=FILE writes
// every variant's time.
func BenchmarkGemvTable(bm *testing.B) {
	gemvBenchOnce.Do(func() { gemvBenchTable(bm) })
}

var gemvBenchOnce sync.Once

type benchLayer struct {
	model, layer string
	n, k         int
	logits       bool // fp32 output (the LM head)
}

var gemvBenchLayers = []benchLayer{
	{"opt-125m", "qkv", 2304, 768, false}, {"opt-125m", "out", 768, 768, false},
	{"opt-125m", "fc1", 3072, 768, false}, {"opt-125m", "fc2", 768, 3072, false},
	{"opt-125m", "lm head", 50272, 768, true},
	{"SmolLM2-135M", "qkv", 960, 576, false}, {"SmolLM2-135M", "o", 576, 576, false},
	{"SmolLM2-135M", "gate+up", 3072, 576, false}, {"SmolLM2-135M", "down", 576, 1536, false},
	{"SmolLM2-135M", "lm head", 49152, 576, true},
	{"Qwen3-0.6B", "qkv", 4096, 1024, false}, {"Qwen3-0.6B", "o", 1024, 2048, false},
	{"Qwen3-0.6B", "gate+up", 6144, 1024, false}, {"Qwen3-0.6B", "down", 1024, 3072, false},
	{"Qwen3-0.6B", "lm head", 151936, 1024, true},
	{"Llama-3.2-1B", "qkv", 3072, 2048, false}, {"Llama-3.2-1B", "o", 2048, 2048, false},
	{"Llama-3.2-1B", "gate+up", 16384, 2048, false}, {"Llama-3.2-1B", "down", 2048, 8192, false},
	{"Llama-3.2-1B", "lm head", 128256, 2048, true},
}

// benchWeights fills an n×k tensor of dt with N(0, 0.05) values: 64 random
// rows uploaded, repeated down the matrix on the device.
func benchWeights(g *Backend, dt kernels.DType, n, k int, seed uint64) (kernels.Tensor, error) {
	w, err := g.Alloc(dt, n, k)
	if err != nil {
		return nil, err
	}
	rows := min(n, 64)
	rng := rand.New(rand.NewPCG(seed, 7))
	vals := make([]float32, rows*k)
	for i := range vals {
		vals[i] = float32(rng.NormFloat64() * 0.05)
	}
	head, _ := g.View(w, rows)
	if err := g.Upload(head, vals); err != nil {
		return nil, err
	}
	rowBytes := k * dt.Size()
	for r := rows; r < n; r += rows {
		c := min(rows, n-r)
		if err := g.d.check(g.d.cuMemcpyDtoDAsync(ptr(w)+uintptr(r*rowBytes), ptr(w), uint64(c*rowBytes), g.stream), "fill"); err != nil {
			return nil, err
		}
	}
	return w, nil
}

type benchRow struct {
	layer benchLayer
	dt    kernels.DType
	m     int
	c     *gemvChoice
}

func gemvBenchTable(bm *testing.B) {
	g, err := Open()
	if err != nil {
		bm.Skipf("no GPU: %v", err)
	}
	defer g.Close()
	ceil, err := g.MeasureCeilings()
	if err != nil {
		bm.Fatal(err)
	}
	bw := ceil.BandwidthBytesPerSec
	var l2 int32
	g.d.cuDeviceGetAttribute(&l2, attrL2CacheSize, g.dev)
	fmt.Printf("\n## Small-M GEMMs on %s (%d SMs, L2 %d MiB): copy bandwidth %.2f TB/s (read + write), fp16 GEMM %.0f TFLOP/s\n",
		g.name, g.sms, l2>>20, bw/1e12, ceil.MatmulFlopsPerSec/1e12)
	dts := []kernels.DType{kernels.F16, kernels.BF16}
	switch os.Getenv("GEMV_BENCH_DTYPES") {
	case "f16":
		dts = dts[:1]
	case "bf16":
		dts = dts[1:]
	}
	var rows []benchRow
	start := time.Now()
	for _, dt := range dts {
		for li, l := range gemvBenchLayers {
			w, err := benchWeights(g, dt, l.n, l.k, uint64(li))
			if err != nil {
				bm.Fatal(err)
			}
			for _, m := range gemvTestMs {
				out := dt
				if l.logits {
					out = kernels.F32
				}
				key := gemvKey{dt: dt, out: out, m: m, n: l.n, k: l.k, aligned: true}
				c, err := g.gemvMeasure(key, ptr(w))
				if err != nil {
					bm.Fatalf("%s %s %s M=%d: %v", dt, l.model, l.layer, m, err)
				}
				rows = append(rows, benchRow{l, dt, m, c})
				fmt.Fprintf(os.Stderr, "timed %s %s %s M=%d (%d variants) at %.0f s\n", dt, l.model, l.layer, m, len(c.timings), time.Since(start).Seconds())
			}
			g.Free(w)
		}
	}
	if path := os.Getenv("GEMV_CSV"); path != "" {
		if err := writeGemvCSV(path, rows); err != nil {
			bm.Error(err)
		}
	}
	printGemvTable(rows, bw)
	gemvBenchFusion(bm, g)
	gemvBenchArgmax(bm, g)
	printGemvWinners(rows)
	printGemvStep(rows)
	printGemvMatrix(rows)
}

// printGemvMatrix is the table in brief: a row per layer and dtype, a
// column per M, each cell the small-M kernel's µs / cuBLAS's µs, starred
// where the choice table uses the kernel.
func printGemvMatrix(rows []benchRow) {
	fmt.Printf("\n### In brief: small-M kernel µs / cuBLAS µs (* used)\n\n")
	head := "| layer | dtype |"
	sep := "| --- | --- |"
	for _, m := range gemvTestMs {
		head += fmt.Sprintf(" M=%d |", m)
		sep += " ---: |"
	}
	fmt.Println(head)
	fmt.Println(sep)
	for i := 0; i < len(rows); {
		r := rows[i]
		line := fmt.Sprintf("| %s %s %dx%d | %s |", r.layer.model, r.layer.layer, r.layer.n, r.layer.k, r.dt)
		for ; i < len(rows) && rows[i].layer == r.layer && rows[i].dt == r.dt; i++ {
			c, star := rows[i].c, ""
			if c.use {
				star = "*"
			}
			if c.found {
				line += fmt.Sprintf(" %s%.1f/%.1f |", star, c.gemvUs, c.cublasUs)
			} else {
				line += fmt.Sprintf(" –/%.1f |", c.cublasUs)
			}
		}
		fmt.Println(line)
	}
}

// bytesMoved is what one launch must read and write at the row's shape.
func (r benchRow) bytesMoved() float64 {
	out := r.dt.Size()
	if r.layer.logits {
		out = 4
	}
	return float64((r.layer.n*r.layer.k+r.m*r.layer.k)*r.dt.Size() + r.m*r.layer.n*out)
}

func familyBest(c *gemvChoice, fam gemvFamily) (gemvTiming, bool) {
	for _, t := range c.timings { // fastest first
		if t.v.fam == fam {
			return t, true
		}
	}
	return gemvTiming{}, false
}

func printGemvTable(rows []benchRow, bw float64) {
	fmt.Printf("\n### cuBLAS against the small-M kernels (µs a launch in a CUDA graph, weights from memory; %% of the copy bandwidth)\n\n")
	fmt.Println("| model | layer | dtype | M | N | K | cuBLAS µs | cuBLAS % BW | best kernel | µs | GB/s | % BW | speedup | used | best SIMT µs | best MMA µs |")
	fmt.Println("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
	for _, r := range rows {
		c, b := r.c, r.bytesMoved()
		kernel, us, gbs, pct, speed := "none: "+c.note, "", "", "", ""
		if c.found {
			kernel = c.best.String()
			us = fmt.Sprintf("%.2f", c.gemvUs)
			gbs = fmt.Sprintf("%.0f", b/c.gemvUs/1e3)
			pct = fmt.Sprintf("%.0f%%", 100*b/(c.gemvUs*1e-6)/bw)
			speed = fmt.Sprintf("%.2f×", c.cublasUs/c.gemvUs)
		}
		fam := func(f gemvFamily) string {
			if t, ok := familyBest(c, f); ok {
				return fmt.Sprintf("%.2f", t.us)
			}
			return "–"
		}
		fmt.Printf("| %s | %s | %s | %d | %d | %d | %.2f | %.0f%% | %s | %s | %s | %s | %s | %v | %s | %s |\n",
			r.layer.model, r.layer.layer, r.dt, r.m, r.layer.n, r.layer.k, c.cublasUs, 100*b/(c.cublasUs*1e-6)/bw,
			kernel, us, gbs, pct, speed, c.use, fam(gemvSIMT), fam(gemvMMA))
	}
}

// printGemvWinners says which variants and parameters win, and where the
// small-M kernels beat cuBLAS.
func printGemvWinners(rows []benchRow) {
	fmt.Printf("\n### Which variants win\n\n")
	used, total := 0, 0
	byM := map[int][]float64{}
	count := map[string]map[string]int{"family": {}, "token tile": {}, "rows": {}, "warps": {}, "split": {}, "variant": {}}
	for _, r := range rows {
		total++
		if !r.c.found {
			continue
		}
		if r.c.use {
			used++
		}
		byM[r.m] = append(byM[r.m], r.c.cublasUs/r.c.gemvUs)
		v := r.c.best
		fam := "simt"
		if v.fam == gemvMMA {
			fam = "mma"
		}
		count["family"][fam]++
		count["token tile"][fmt.Sprintf("%s %d", fam, v.tile)]++
		count["rows"][fmt.Sprintf("%s r%d", fam, v.rows)]++
		count["warps"][fmt.Sprintf("w%d", v.warps)]++
		count["split"][fmt.Sprintf("s%d", v.split)]++
		count["variant"][v.String()]++
	}
	fmt.Printf("Small-M kernel used (≥ %.0f%% faster than cuBLAS) at %d of %d shapes.\n\n", 100*(1/gemvMargin-1), used, total)
	fmt.Println("| M | shapes | speedup over cuBLAS: geometric mean | min | max |")
	fmt.Println("| ---: | ---: | ---: | ---: | ---: |")
	for _, m := range gemvTestMs {
		s := byM[m]
		if len(s) == 0 {
			continue
		}
		lg := 0.0
		for _, v := range s {
			lg += math.Log(v)
		}
		fmt.Printf("| %d | %d | %.2f× | %.2f× | %.2f× |\n", m, len(s), math.Exp(lg/float64(len(s))), slices.Min(s), slices.Max(s))
	}
	fmt.Println()
	for _, what := range []string{"family", "token tile", "rows", "warps", "split", "variant"} {
		type kv struct {
			k string
			n int
		}
		var list []kv
		for k, n := range count[what] {
			list = append(list, kv{k, n})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n || list[i].n == list[j].n && list[i].k < list[j].k })
		var parts []string
		for i, e := range list {
			if i == 12 {
				parts = append(parts, "…")
				break
			}
			parts = append(parts, fmt.Sprintf("%s: %d", e.k, e.n))
		}
		fmt.Printf("- wins by %s: %s\n", what, strings.Join(parts, ", "))
	}
}

// printGemvStep adds up opt-125m's GEMMs of one decode step (12 layers of
// qkv, out, fc1, fc2, then the LM head) with cuBLAS and with the choices.
func printGemvStep(rows []benchRow) {
	fmt.Printf("\n### opt-125m decode step, GEMMs only (fp16, 12 layers + LM head)\n\n")
	fmt.Println("| M | cuBLAS µs | with the choice table µs | saved |")
	fmt.Println("| ---: | ---: | ---: | ---: |")
	for _, m := range gemvTestMs {
		var cub, chosen float64
		n := 0
		for _, r := range rows {
			if r.dt != kernels.F16 || r.layer.model != "opt-125m" || r.m != m {
				continue
			}
			times := 12.0
			if r.layer.logits {
				times = 1
			}
			cub += times * r.c.cublasUs
			if r.c.use {
				chosen += times * r.c.gemvUs
			} else {
				chosen += times * r.c.cublasUs
			}
			n++
		}
		if n == 5 {
			fmt.Printf("| %d | %.1f | %.1f | %.1f (%.0f%%) |\n", m, cub, chosen, cub-chosen, 100*(cub-chosen)/cub)
		}
	}
}

func writeGemvCSV(path string, rows []benchRow) error {
	var sb strings.Builder
	sb.WriteString("dtype,model,layer,m,n,k,variant,us,matched,cublas_us\n")
	for _, r := range rows {
		for _, t := range r.c.timings {
			fmt.Fprintf(&sb, "%s,%s,%s,%d,%d,%d,%s,%.3f,%v,%.3f\n", r.dt, r.layer.model, r.layer.layer, r.m, r.layer.n, r.layer.k, t.v, t.us, t.matched, r.c.cublasUs)
		}
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

// gemvBenchFusion times OPT's FC1 (bias + ReLU) and FC2 (bias + residual)
// as cuBLAS followed by the elementwise kernel, against the small-M kernel
// with the epilogue fused, both in graphs.
func gemvBenchFusion(bm *testing.B, g *Backend) {
	fmt.Printf("\n### Fused epilogues (fp16, µs a layer in a CUDA graph)\n\n")
	fmt.Println("| layer | M | cuBLAS + epilogue kernel | fused small-M kernel | kernel | speedup |")
	fmt.Println("| --- | ---: | ---: | ---: | --- | ---: |")
	for _, l := range []struct {
		name string
		n, k int
		relu bool
	}{{"fc1 + bias + ReLU", 3072, 768, true}, {"fc2 + bias + residual", 768, 3072, false}} {
		w, err := benchWeights(g, kernels.F16, l.n, l.k, 99)
		if err != nil {
			bm.Fatal(err)
		}
		for _, m := range []int{1, 16, 64} {
			key := gemvKey{dt: kernels.F16, out: kernels.F16, m: m, n: l.n, k: l.k, aligned: true}
			c, err := g.gemvMeasure(key, ptr(w))
			if err != nil {
				bm.Fatal(err)
			}
			s, err := g.newGemvBench(key, ptr(w))
			if err != nil {
				bm.Fatal(err)
			}
			bias, _ := benchWeights(g, kernels.F16, 1, l.n, 5)
			res, _ := benchWeights(g, kernels.F16, m, l.n, 6)
			act, rp := int(kernels.ActNone), ptr(res)
			if l.relu {
				act, rp = int(kernels.ActReLU), 0
			}
			unfused, err := g.gemvTimeGraph(s.reps, 3, func(i int) error {
				if err := g.gemvCublas(key, ptr(s.x), s.weight(i), ptr(s.out), false); err != nil {
					return err
				}
				if l.relu {
					return g.biasAct(s.out.(*Tensor), bias, 1)
				}
				return g.launch("linear_epilogue_f16", dim3{uint32(ceilDiv(l.n, 256)), uint32(m), 1}, dim3{256, 1, 1}, 0,
					ptr(s.out), ptr(bias), rp, l.n, act)
			})
			if err != nil {
				bm.Fatal(err)
			}
			fused := math.NaN()
			if c.found {
				fused, err = g.gemvTimeGraph(s.reps, 3, func(i int) error {
					return g.gemvLaunch(c.best, key, gemvArgs{x: ptr(s.x), w: s.weight(i), out: ptr(s.out), bias: ptr(bias), res: rp, act: act})
				})
				if err != nil {
					bm.Fatal(err)
				}
			}
			fmt.Printf("| %s | %d | %.2f | %.2f | %s | %.2f× |\n", l.name, m, unfused, fused, c.best, unfused/fused)
			s.free(g)
			g.Free(bias)
			g.Free(res)
		}
		g.Free(w)
	}
}

// gemvBenchArgmax times the greedy LM head: Linear into fp32 logits and
// Sample, against ArgmaxLinear (host wall time, each call waits for the
// device; median of 30).
func gemvBenchArgmax(bm *testing.B, g *Backend) {
	fmt.Printf("\n### Greedy LM head, opt-125m (fp16, vocab 50272; host µs a call, device wait included)\n\n")
	fmt.Println("| rows | Linear + Sample | ArgmaxLinear | speedup | same tokens |")
	fmt.Println("| ---: | ---: | ---: | ---: | --- |")
	const vocab, d = 50272, 768
	w, err := benchWeights(g, kernels.F16, vocab, d, 11)
	if err != nil {
		bm.Fatal(err)
	}
	defer g.Free(w)
	for _, m := range []int{1, 16, 64} {
		x, _ := benchWeights(g, kernels.F16, m, d, 12)
		logits, err := g.Alloc(kernels.F32, m, vocab)
		if err != nil {
			bm.Fatal(err)
		}
		params := make([]kernels.SampleParams, m)
		var a, b []int32
		median := func(f func() error) float64 {
			var ts []float64
			for range 31 {
				t0 := time.Now()
				if err := f(); err != nil {
					bm.Fatal(err)
				}
				ts = append(ts, float64(time.Since(t0).Nanoseconds())/1e3)
			}
			sort.Float64s(ts[1:])
			return ts[1+len(ts[1:])/2]
		}
		sep := median(func() error {
			if err := g.Linear(logits, x, w, nil); err != nil {
				return err
			}
			a, err = g.Sample(logits, params)
			return err
		})
		fused := median(func() error {
			b, err = g.ArgmaxLinear(x, w)
			return err
		})
		fmt.Printf("| %d | %.1f | %.1f | %.2f× | %v |\n", m, sep, fused, sep/fused, slices.Equal(a, b))
		g.Free(x)
		g.Free(logits)
	}
}
