package kernels

import "golang.org/x/sys/cpu"

// haveAVX2 says the vector twins run here; a variable so tests can switch.
var haveAVX2 = cpu.X86.HasAVX2

// Implemented in exp_amd64.s: n is a positive multiple of 16 for expRow,
// of 32 for max, of 8 for the masks.
//
//go:noescape
func expRowAVX2(w, x *float32, n int, maxv, inv, kth float32, lanes *[8]float64)

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func geMaskAVX2(x *float32, n int, thr float32, mask *byte)

//go:noescape
func bracketAVX2(w *float32, n int, lo, hi float32, blockSums *float64, mask, above *byte)
