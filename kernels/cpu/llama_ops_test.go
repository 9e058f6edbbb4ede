package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"benchtop/kernels"
)

func TestResidualRMSNormAndSwiGLU(t *testing.T) {
	b := New(1 << 30)
	r := rand.New(rand.NewPCG(5, 6))
	const rows, d = 3, 7
	h, x, w := randTensor(t, b, r, rows, d), randTensor(t, b, r, rows, d), randTensor(t, b, r, d)
	h0 := append([]float32(nil), h.Data...)
	out := randTensor(t, b, r, rows, d)
	if err := b.ResidualRMSNorm(h, x, out, w, 1e-6); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < rows; i++ {
		var ss float64
		for j := 0; j < d; j++ {
			v := float64(h0[i*d+j] + x.Data[i*d+j])
			if math.Abs(v-float64(h.Data[i*d+j])) > 1e-6 {
				t.Fatalf("h[%d,%d] = %g, want %g", i, j, h.Data[i*d+j], v)
			}
			ss += v * v
		}
		for j := 0; j < d; j++ {
			want := float64(h.Data[i*d+j]) / math.Sqrt(ss/d+1e-6) * float64(w.Data[j])
			if math.Abs(float64(out.Data[i*d+j])-want) > 1e-5 {
				t.Fatalf("out[%d,%d] = %g, want %g", i, j, out.Data[i*d+j], want)
			}
		}
	}
	if err := b.ResidualRMSNorm(h, x, out, randTensor(t, b, r, d+1), 1e-6); err == nil {
		t.Fatal("a weight of the wrong width was accepted")
	}

	gu, o := randTensor(t, b, r, rows, 2*d), randTensor(t, b, r, rows, d)
	if err := b.SwiGLU(o, gu); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < d; j++ {
			g, u := float64(gu.Data[i*2*d+j]), float64(gu.Data[i*2*d+d+j])
			if want := g / (1 + math.Exp(-g)) * u; math.Abs(float64(o.Data[i*d+j])-want) > 1e-6 {
				t.Fatalf("swiglu[%d,%d] = %g, want %g", i, j, o.Data[i*d+j], want)
			}
		}
	}
	if err := b.SwiGLU(o, randTensor(t, b, r, rows, 2*d+2)); err == nil {
		t.Fatal("a gate|up of the wrong width was accepted")
	}
}

// The rotary embedding is a rotation: it keeps a head's length, is the
// identity at position 0, and a rotated q·k depends only on the distance
// between the two positions.
func TestRotaryEmbedding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const hd = 16
	inv := make([]float32, hd/2)
	for i := range inv {
		inv[i] = float32(1 / math.Pow(10000, float64(2*i)/hd))
	}
	vec := func() []float32 {
		v := make([]float32, hd)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	dot := func(a, b []float32) float64 {
		s := 0.0
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	q, k := vec(), vec()
	q0 := append([]float32(nil), q...)
	Rotate(q0, 0, inv)
	for i := range q {
		if q0[i] != q[i] {
			t.Fatalf("position 0 changed element %d: %g → %g", i, q[i], q0[i])
		}
	}
	at := func(v []float32, pos int32) []float32 {
		c := append([]float32(nil), v...)
		Rotate(c, pos, inv)
		return c
	}
	if a, b := dot(q, q), dot(at(q, 77), at(q, 77)); math.Abs(a-b) > 1e-4*a {
		t.Fatalf("rotation changed the length: %g → %g", a, b)
	}
	if a, b := dot(at(q, 10), at(k, 3)), dot(at(q, 107), at(k, 100)); math.Abs(a-b) > 1e-4 {
		t.Fatalf("q·k at distance 7: %g at (10, 3), %g at (107, 100)", a, b)
	}
}

// WriteKV with grouped KV heads: Q heads are normed, rotated and scaled, K
// heads normed and rotated, and only K and V reach the cache.
func TestWriteKVPrep(t *testing.T) {
	b := New(1 << 30)
	r := rand.New(rand.NewPCG(7, 8))
	sh := kernels.AttnShape{NumHeads: 4, NumKVHeads: 2, HeadDim: 8, Scale: 1}
	w := sh.QKVWidth()
	qkv := randTensor(t, b, r, 2, w)
	orig := append([]float32(nil), qkv.Data...)
	kc, vc := randTensor(t, b, r, 10, sh.KVWidth()), randTensor(t, b, r, 10, sh.KVWidth())
	bias, qn, kn := randTensor(t, b, r, w), randTensor(t, b, r, 8), randTensor(t, b, r, 8)
	inv := randTensor(t, b, r, 4)
	b.SetBatch(&kernels.Batch{Tokens: []int32{0, 0}, Positions: []int32{5, 9}, Slots: []int32{3, -1}, BlockSize: 1})
	p := kernels.QKVPrep{Bias: bias, QNorm: qn, KNorm: kn, NormEps: 1e-6, InvFreq: inv, QScale: 0.5}
	kBefore := append([]float32(nil), kc.Data...)
	if err := b.WriteKV(kc, vc, qkv, sh, p); err != nil {
		t.Fatal(err)
	}
	for tok, pos := range []int32{5, 9} {
		row := make([]float32, w)
		for j := range row {
			row[j] = orig[tok*w+j] + bias.Data[j]
		}
		for h := 0; h < 6; h++ {
			head := row[h*8 : (h+1)*8]
			wt := qn.Data
			if h >= 4 {
				wt = kn.Data
			}
			rmsNormRow(head, head, wt, 1e-6)
			Rotate(head, pos, inv.Data)
			if h < 4 {
				for j := range head {
					head[j] *= 0.5
				}
			}
		}
		for j, want := range row {
			if got := qkv.Data[tok*w+j]; math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("token %d element %d: %g, want %g", tok, j, got, want)
			}
		}
	}
	for j := 0; j < sh.KVWidth(); j++ {
		if kc.Data[3*16+j] != qkv.Data[32+j] || vc.Data[3*16+j] != qkv.Data[48+j] {
			t.Fatalf("slot 3 element %d not stored", j)
		}
	}
	for i, v := range kc.Data {
		if i/16 != 3 && v != kBefore[i] {
			t.Fatalf("cache row %d written (only slot 3 should be)", i/16)
		}
	}
	p.InvFreq = randTensor(t, b, r, 3)
	if err := b.WriteKV(kc, vc, qkv, sh, p); err == nil {
		t.Fatal("3 rotary frequencies for head size 8 accepted")
	}
}
