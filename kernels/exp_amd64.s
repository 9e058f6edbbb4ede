#include "textflag.h"

// Constants of exp32 (exp.go), eight copies each: one YMM load apiece.
DATA expc<>+0(SB)/4, $0x3fb8aa3b
DATA expc<>+4(SB)/4, $0x3fb8aa3b
DATA expc<>+8(SB)/4, $0x3fb8aa3b
DATA expc<>+12(SB)/4, $0x3fb8aa3b
DATA expc<>+16(SB)/4, $0x3fb8aa3b
DATA expc<>+20(SB)/4, $0x3fb8aa3b
DATA expc<>+24(SB)/4, $0x3fb8aa3b
DATA expc<>+28(SB)/4, $0x3fb8aa3b
DATA expc<>+32(SB)/4, $0x4b400000
DATA expc<>+36(SB)/4, $0x4b400000
DATA expc<>+40(SB)/4, $0x4b400000
DATA expc<>+44(SB)/4, $0x4b400000
DATA expc<>+48(SB)/4, $0x4b400000
DATA expc<>+52(SB)/4, $0x4b400000
DATA expc<>+56(SB)/4, $0x4b400000
DATA expc<>+60(SB)/4, $0x4b400000
DATA expc<>+64(SB)/4, $0x3f318000
DATA expc<>+68(SB)/4, $0x3f318000
DATA expc<>+72(SB)/4, $0x3f318000
DATA expc<>+76(SB)/4, $0x3f318000
DATA expc<>+80(SB)/4, $0x3f318000
DATA expc<>+84(SB)/4, $0x3f318000
DATA expc<>+88(SB)/4, $0x3f318000
DATA expc<>+92(SB)/4, $0x3f318000
DATA expc<>+96(SB)/4, $0xb95e8083
DATA expc<>+100(SB)/4, $0xb95e8083
DATA expc<>+104(SB)/4, $0xb95e8083
DATA expc<>+108(SB)/4, $0xb95e8083
DATA expc<>+112(SB)/4, $0xb95e8083
DATA expc<>+116(SB)/4, $0xb95e8083
DATA expc<>+120(SB)/4, $0xb95e8083
DATA expc<>+124(SB)/4, $0xb95e8083
DATA expc<>+128(SB)/4, $0x39506967
DATA expc<>+132(SB)/4, $0x39506967
DATA expc<>+136(SB)/4, $0x39506967
DATA expc<>+140(SB)/4, $0x39506967
DATA expc<>+144(SB)/4, $0x39506967
DATA expc<>+148(SB)/4, $0x39506967
DATA expc<>+152(SB)/4, $0x39506967
DATA expc<>+156(SB)/4, $0x39506967
DATA expc<>+160(SB)/4, $0x3ab743ce
DATA expc<>+164(SB)/4, $0x3ab743ce
DATA expc<>+168(SB)/4, $0x3ab743ce
DATA expc<>+172(SB)/4, $0x3ab743ce
DATA expc<>+176(SB)/4, $0x3ab743ce
DATA expc<>+180(SB)/4, $0x3ab743ce
DATA expc<>+184(SB)/4, $0x3ab743ce
DATA expc<>+188(SB)/4, $0x3ab743ce
DATA expc<>+192(SB)/4, $0x3c088908
DATA expc<>+196(SB)/4, $0x3c088908
DATA expc<>+200(SB)/4, $0x3c088908
DATA expc<>+204(SB)/4, $0x3c088908
DATA expc<>+208(SB)/4, $0x3c088908
DATA expc<>+212(SB)/4, $0x3c088908
DATA expc<>+216(SB)/4, $0x3c088908
DATA expc<>+220(SB)/4, $0x3c088908
DATA expc<>+224(SB)/4, $0x3d2aa9c1
DATA expc<>+228(SB)/4, $0x3d2aa9c1
DATA expc<>+232(SB)/4, $0x3d2aa9c1
DATA expc<>+236(SB)/4, $0x3d2aa9c1
DATA expc<>+240(SB)/4, $0x3d2aa9c1
DATA expc<>+244(SB)/4, $0x3d2aa9c1
DATA expc<>+248(SB)/4, $0x3d2aa9c1
DATA expc<>+252(SB)/4, $0x3d2aa9c1
DATA expc<>+256(SB)/4, $0x3e2aaaaa
DATA expc<>+260(SB)/4, $0x3e2aaaaa
DATA expc<>+264(SB)/4, $0x3e2aaaaa
DATA expc<>+268(SB)/4, $0x3e2aaaaa
DATA expc<>+272(SB)/4, $0x3e2aaaaa
DATA expc<>+276(SB)/4, $0x3e2aaaaa
DATA expc<>+280(SB)/4, $0x3e2aaaaa
DATA expc<>+284(SB)/4, $0x3e2aaaaa
DATA expc<>+288(SB)/4, $0x3f000000
DATA expc<>+292(SB)/4, $0x3f000000
DATA expc<>+296(SB)/4, $0x3f000000
DATA expc<>+300(SB)/4, $0x3f000000
DATA expc<>+304(SB)/4, $0x3f000000
DATA expc<>+308(SB)/4, $0x3f000000
DATA expc<>+312(SB)/4, $0x3f000000
DATA expc<>+316(SB)/4, $0x3f000000
DATA expc<>+320(SB)/4, $0x3f800000
DATA expc<>+324(SB)/4, $0x3f800000
DATA expc<>+328(SB)/4, $0x3f800000
DATA expc<>+332(SB)/4, $0x3f800000
DATA expc<>+336(SB)/4, $0x3f800000
DATA expc<>+340(SB)/4, $0x3f800000
DATA expc<>+344(SB)/4, $0x3f800000
DATA expc<>+348(SB)/4, $0x3f800000
DATA expc<>+352(SB)/4, $0xc2ac0000
DATA expc<>+356(SB)/4, $0xc2ac0000
DATA expc<>+360(SB)/4, $0xc2ac0000
DATA expc<>+364(SB)/4, $0xc2ac0000
DATA expc<>+368(SB)/4, $0xc2ac0000
DATA expc<>+372(SB)/4, $0xc2ac0000
DATA expc<>+376(SB)/4, $0xc2ac0000
DATA expc<>+380(SB)/4, $0xc2ac0000
GLOBL expc<>(SB), RODATA|NOPTR, $384

#define LOG2E expc<>+0(SB)
#define MAGIC expc<>+32(SB)
#define LN2HI expc<>+64(SB)
#define LN2LO expc<>+96(SB)
#define C0 expc<>+128(SB)
#define C1 expc<>+160(SB)
#define C2 expc<>+192(SB)
#define C3 expc<>+224(SB)
#define C4 expc<>+256(SB)
#define C5 expc<>+288(SB)
#define ONE expc<>+320(SB)
#define MINARG expc<>+352(SB)

// func expRowAVX2(w, x *float32, n int, maxv, inv, kth float32, lanes *[8]float64)
//
// w[i] = x[i] >= kth ? exp32((x[i]-maxv)*inv) : 0 for i < n (a positive
// multiple of 16), and lanes[j] += w[i] for i % 8 == j: exp.go's expRowGo,
// the same float32 operations in the same order (no FMA), sixteen at a
// time in two independent chains (the exponential is latency-bound). Each
// chain parks its keep mask in its output slot until the end.
TEXT ·expRowAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS maxv+24(FP), Y15
	VBROADCASTSS inv+28(FP), Y14
	VBROADCASTSS kth+32(FP), Y13
	MOVQ lanes+40(FP), DX
	VMOVUPD (DX), Y11
	VMOVUPD 32(DX), Y12

loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y6
	VCMPPS $0x1D, Y13, Y0, Y5   // keep = x >= kth
	VCMPPS $0x1D, Y13, Y6, Y10
	VSUBPS Y15, Y0, Y0          // d = x - maxv
	VSUBPS Y15, Y6, Y6
	VMULPS Y14, Y0, Y0          // d *= inv
	VMULPS Y14, Y6, Y6
	VCMPPS $0x1D, MINARG, Y0, Y1 // and d >= minarg (false for NaN)
	VCMPPS $0x1D, MINARG, Y6, Y7
	VANDPS Y1, Y5, Y5
	VANDPS Y7, Y10, Y10
	VMOVUPS Y5, (DI)            // park the masks
	VMOVUPS Y10, 32(DI)
	VMAXPS MINARG, Y0, Y0       // keep the exponent sane where d is dropped
	VMAXPS MINARG, Y6, Y6
	VMULPS LOG2E, Y0, Y1        // t = d*log2e
	VMULPS LOG2E, Y6, Y7
	VADDPS MAGIC, Y1, Y2        // tm = t + magic
	VADDPS MAGIC, Y7, Y8
	VSUBPS MAGIC, Y2, Y3        // r = tm - magic
	VSUBPS MAGIC, Y8, Y9
	VPSUBD MAGIC, Y2, Y2        // k = bits(tm) - bits(magic)
	VPSUBD MAGIC, Y8, Y8
	VPSLLD $23, Y2, Y2
	VPSLLD $23, Y8, Y8
	VMULPS LN2HI, Y3, Y5
	VMULPS LN2HI, Y9, Y10
	VSUBPS Y5, Y0, Y0           // f = d - r*ln2hi
	VSUBPS Y10, Y6, Y6
	VMULPS LN2LO, Y3, Y5
	VMULPS LN2LO, Y9, Y10
	VSUBPS Y5, Y0, Y0           // f -= r*ln2lo
	VSUBPS Y10, Y6, Y6
	VMULPS C0, Y0, Y1
	VMULPS C0, Y6, Y7
	VADDPS C1, Y1, Y1
	VADDPS C1, Y7, Y7
	VMULPS Y0, Y1, Y1
	VMULPS Y6, Y7, Y7
	VADDPS C2, Y1, Y1
	VADDPS C2, Y7, Y7
	VMULPS Y0, Y1, Y1
	VMULPS Y6, Y7, Y7
	VADDPS C3, Y1, Y1
	VADDPS C3, Y7, Y7
	VMULPS Y0, Y1, Y1
	VMULPS Y6, Y7, Y7
	VADDPS C4, Y1, Y1
	VADDPS C4, Y7, Y7
	VMULPS Y0, Y1, Y1
	VMULPS Y6, Y7, Y7
	VADDPS C5, Y1, Y1           // p
	VADDPS C5, Y7, Y7
	VMULPS Y0, Y0, Y5           // z = f*f
	VMULPS Y6, Y6, Y10
	VMULPS Y5, Y1, Y1           // p*z
	VMULPS Y10, Y7, Y7
	VADDPS Y0, Y1, Y1           // + f
	VADDPS Y6, Y7, Y7
	VADDPS ONE, Y1, Y1          // + 1
	VADDPS ONE, Y7, Y7
	VPADDD Y2, Y1, Y1           // * 2^k
	VPADDD Y8, Y7, Y7
	VANDPS (DI), Y1, Y1         // 0 where dropped
	VANDPS 32(DI), Y7, Y7
	VMOVUPS Y1, (DI)
	VMOVUPS Y7, 32(DI)
	VCVTPS2PD X1, Y5            // lanes, first the first eight, then the next
	VADDPD Y5, Y11, Y11
	VEXTRACTF128 $1, Y1, X5
	VCVTPS2PD X5, Y5
	VADDPD Y5, Y12, Y12
	VCVTPS2PD X7, Y10
	VADDPD Y10, Y11, Y11
	VEXTRACTF128 $1, Y7, X10
	VCVTPS2PD X10, Y10
	VADDPD Y10, Y12, Y12
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  loop

	VMOVUPD Y11, (DX)
	VMOVUPD Y12, 32(DX)
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int) float32
//
// The largest of x[0:n] (n a positive multiple of 32), NaNs skipped as
// maxGo skips them: VMAXPS returns its second source when either is NaN.
// Four accumulators hide VMAXPS's latency.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0xff800000, AX        // -Inf
	MOVD AX, X0
	VBROADCASTSS X0, Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3

maxloop:
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VMAXPS Y0, Y4, Y0           // Y0 = max(Y4, Y0); a NaN in Y4 keeps Y0
	VMAXPS Y1, Y5, Y1
	VMAXPS Y2, Y6, Y2
	VMAXPS Y3, Y7, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	JNZ  maxloop

	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	VMAXPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X0, X1, X0
	VPERMILPS $0x4E, X0, X1
	VMAXPS X0, X1, X0
	VPERMILPS $0xB1, X0, X1
	VMAXPS X0, X1, X0
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func geMaskAVX2(x *float32, n int, thr float32, mask *byte)
//
// Bit j of mask[i/8] is x[i*8+j] >= thr, for the n elements (a positive
// multiple of 8).
TEXT ·geMaskAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS thr+16(FP), Y15
	MOVQ mask+24(FP), DI

maskloop:
	VMOVUPS (SI), Y0
	VCMPPS $0x1D, Y15, Y0, Y0   // x >= g
	VMOVMSKPS Y0, AX
	MOVB AL, (DI)
	ADDQ $32, SI
	INCQ DI
	SUBQ $8, CX
	JNZ  maskloop

	VZEROUPPER
	RET

// func bracketAVX2(w *float32, n int, lo, hi float32, blockSums *float64, mask, above *byte)
//
// For the n weights (a positive multiple of 8): bit j of mask[i] is
// lo <= w[i*8+j] < hi, bit j of above[i] is w[i*8+j] >= hi, and
// blockSums[b] is the sum of the weights >= hi among w[256b : 256b+256], in
// exp.go's bracketGo order (a float64 lane for each i % 8, the lanes
// combined as ((0+4)+(2+6))+((1+5)+(3+7))).
TEXT ·bracketAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS lo+16(FP), Y14
	VBROADCASTSS hi+20(FP), Y15
	MOVQ blockSums+24(FP), R8
	MOVQ mask+32(FP), DI
	MOVQ above+40(FP), R9

block:
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
	MOVQ $32, BX
	CMPQ CX, $256
	JGE  inner
	MOVQ CX, BX
	SHRQ $3, BX

inner:
	VMOVUPS (SI), Y0
	VCMPPS $0x1D, Y15, Y0, Y1   // w >= hi
	VCMPPS $0x1D, Y14, Y0, Y2   // w >= lo
	VANDNPS Y2, Y1, Y3          // lo <= w < hi
	VMOVMSKPS Y3, AX
	MOVB AL, (DI)
	VMOVMSKPS Y1, AX
	MOVB AL, (R9)
	INCQ R9
	VANDPS Y1, Y0, Y0
	VCVTPS2PD X0, Y4
	VADDPD Y4, Y11, Y11
	VEXTRACTF128 $1, Y0, X5
	VCVTPS2PD X5, Y5
	VADDPD Y5, Y12, Y12
	ADDQ $32, SI
	INCQ DI
	SUBQ $8, CX
	DECQ BX
	JNZ  inner

	VADDPD Y12, Y11, Y11        // s_j = lane j + lane j+4
	VEXTRACTF128 $1, Y11, X12   // (s2, s3)
	VADDPD X12, X11, X11        // (s0+s2, s1+s3)
	VPERMILPD $1, X11, X12
	VADDSD X12, X11, X11        // (s0+s2) + (s1+s3)
	VMOVSD X11, (R8)
	ADDQ $8, R8
	TESTQ CX, CX
	JNZ  block

	VZEROUPPER
	RET
