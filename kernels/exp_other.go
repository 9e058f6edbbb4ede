//go:build !amd64

package kernels

var haveAVX2 = false

func expRowAVX2(w, x *float32, n int, maxv, inv, kth float32, lanes *[8]float64) {
	panic("no vector kernels on this architecture") // never called: haveAVX2 is false
}

func maxAVX2(x *float32, n int) float32 { panic("no vector kernels on this architecture") }

func geMaskAVX2(x *float32, n int, thr float32, mask *byte) {
	panic("no vector kernels on this architecture")
}

func bracketAVX2(w *float32, n int, lo, hi float32, blockSums *float64, mask, above *byte) {
	panic("no vector kernels on this architecture")
}
