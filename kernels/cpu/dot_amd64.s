#include "textflag.h"

// HSUM stores the sum of y's eight lanes (x is y's low half) at off(DX):
// fold the high 128 bits onto the low, then two horizontal adds.
#define HSUM(y, x, off) \
	VEXTRACTF128 $1, y, X8; \
	VADDPS X8, x, x; \
	VHADDPS x, x, x; \
	VHADDPS x, x, x; \
	VMOVSS x, off(DX)

// func dot2x4(x0, x1, w0, w1, w2, w3 *float32, k int, out *[8]float32)
//
// out[r*4+c] = Σ_{i<k} x_r[i]·w_c[i] for rows x0, x1 and columns w0..w3,
// with AVX2 FMA over 8 lanes; k must be a positive multiple of 8. Eight
// accumulators and six loads keep fourteen of the sixteen YMM registers busy.
TEXT ·dot2x4(SB), NOSPLIT, $0-64
	MOVQ x0+0(FP), SI
	MOVQ x1+8(FP), DI
	MOVQ w0+16(FP), R8
	MOVQ w1+24(FP), R9
	MOVQ w2+32(FP), R10
	MOVQ w3+40(FP), R11
	MOVQ k+48(FP), CX
	MOVQ out+56(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX

loop:
	VMOVUPS (SI)(AX*1), Y8
	VMOVUPS (DI)(AX*1), Y9
	VMOVUPS (R8)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS (R9)(AX*1), Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMOVUPS (R10)(AX*1), Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMOVUPS (R11)(AX*1), Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ $32, AX
	SUBQ $8, CX
	JNZ  loop

	// Horizontal sums into out[0..7].
	HSUM(Y0, X0, 0)
	HSUM(Y1, X1, 4)
	HSUM(Y2, X2, 8)
	HSUM(Y3, X3, 12)
	HSUM(Y4, X4, 16)
	HSUM(Y5, X5, 20)
	HSUM(Y6, X6, 24)
	HSUM(Y7, X7, 28)
	VZEROUPPER
	RET
