package kernels

import "math"

// The sampler's weights are exp32: the Cephes single-precision exponential
// (range reduction by ln 2 in two parts, a degree-5 polynomial, the power
// of two added to the exponent bits), every operation rounded to float32
// and none fused. Its AVX2 twin (exp_amd64.s) performs the same operations
// in the same order, so both give the same bits; a test checks it.
const (
	expLog2e = 1.44269504088896341
	expMagic = 12582912 // 1.5·2²³: adding it rounds a float32 below 2²² to an integer
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	expC0    = 1.9875691500e-4
	expC1    = 1.3981999507e-3
	expC2    = 8.3334519073e-3
	expC3    = 4.1665795894e-2
	expC4    = 1.6666665459e-1
	expC5    = 5.0000001201e-1
	// ExpMinArg is the smallest argument exp32 computes: below it a weight
	// is 0 (it would be below 2⁻¹²⁴ of the largest, and under the smallest
	// normal float32 after the polynomial's scale).
	ExpMinArg = -86.0
)

// exp32 is e^d for d ≤ 0 (d below ExpMinArg gives 0).
func exp32(d float32) float32 {
	if !(d >= ExpMinArg) {
		return 0
	}
	t := float32(d * expLog2e)
	tm := float32(t + expMagic)
	r := float32(tm - expMagic)
	k := int32(math.Float32bits(tm) - math.Float32bits(expMagic))
	f := float32(d - float32(r*expLn2Hi))
	f = float32(f - float32(r*expLn2Lo))
	p := float32(float32(expC0*f) + expC1)
	p = float32(float32(p*f) + expC2)
	p = float32(float32(p*f) + expC3)
	p = float32(float32(p*f) + expC4)
	p = float32(float32(p*f) + expC5)
	z := float32(f * f)
	y := float32(float32(float32(p*z)+f) + 1)
	return math.Float32frombits(math.Float32bits(y) + uint32(k<<23))
}

// weight is a token's unnormalised probability: exp32((x − max)·inv), with
// inv = 1/temperature, each step in float32 as the CUDA sampler does.
func weight(x, maxv, inv float32) float32 {
	return exp32(float32(float32(x-maxv) * inv))
}

// expRowGo is expRow's portable twin: w[i] = weight(x[i]) for x[i] ≥ kth,
// else 0, for i < len(x) rounded down to 8, summing w[i] into lanes[i%8].
func expRowGo(w, x []float32, maxv, inv, kth float32, lanes *[8]float64) {
	n := len(x) &^ 7
	for i := 0; i < n; i++ {
		v := float32(0)
		if x[i] >= kth {
			v = weight(x[i], maxv, inv)
		}
		w[i] = v
		lanes[i&7] += float64(v)
	}
}

// maxGo is the largest value of x (NaNs skipped), −Inf when empty.
func maxGo(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

// geMaskGo sets bit i%8 of mask[i/8] when x[i] ≥ g, for i < len(x) rounded
// down to 8.
func geMaskGo(x []float32, g float32, mask []byte) {
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		var b byte
		for j := range 8 {
			if x[i+j] >= g {
				b |= 1 << j
			}
		}
		mask[i>>3] = b
	}
}

// drawBlock is the number of weights a block sum of bracketGo covers.
const drawBlock = 256

// bracketGo is bracketAVX2's portable twin: over w (its length a multiple
// of 8), bit i%8 of mask[i/8] is lo ≤ w[i] < hi, that of above[i/8] is
// w[i] ≥ hi, and blockSums[b] sums the weights ≥ hi of w[256b:256b+256] in
// eight float64 lanes (i%8), combined as ((0+4)+(2+6))+((1+5)+(3+7)).
func bracketGo(w []float32, lo, hi float32, blockSums []float64, mask, above []byte) {
	for b := 0; b*drawBlock < len(w); b++ {
		var l [8]float64
		end := min((b+1)*drawBlock, len(w))
		for i := b * drawBlock; i < end; i += 8 {
			var m, a byte
			for j := range 8 {
				v := w[i+j]
				if v >= lo && !(v >= hi) {
					m |= 1 << j
				}
				if v >= hi {
					a |= 1 << j
					l[j] += float64(v)
				}
			}
			mask[i>>3], above[i>>3] = m, a
		}
		blockSums[b] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
	}
}
