package cpu

import "golang.org/x/sys/cpu"

// haveFMA says the AVX2 + FMA micro-kernel can run here.
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dot2x4 is implemented in dot_amd64.s.
//
//go:noescape
func dot2x4(x0, x1, w0, w1, w2, w3 *float32, k int, out *[8]float32)
