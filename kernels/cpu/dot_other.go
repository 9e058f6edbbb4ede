//go:build !amd64

package cpu

var haveFMA = false // a variable, as on amd64, so tests can switch paths

func dot2x4(x0, x1, w0, w1, w2, w3 *float32, k int, out *[8]float32) {
	panic("dot2x4: no vector kernel on this architecture") // never called: haveFMA is false
}
