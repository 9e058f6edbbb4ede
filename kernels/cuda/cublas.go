package cuda

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/ebitengine/purego"
)

type cublas struct {
	name                       string
	cublasCreate               func(h *uintptr) int32
	cublasDestroy              func(h uintptr) int32
	cublasSetStream            func(h, s uintptr) int32
	cublasSetWorkspace         func(h, ws uintptr, size uint64) int32
	cublasSetMathMode          func(h uintptr, mode int32) int32
	cublasGemmEx               func(h uintptr, ta, tb int32, m, n, k int32, alpha unsafe.Pointer, a uintptr, atype int32, lda int32, b uintptr, btype int32, ldb int32, beta unsafe.Pointer, c uintptr, ctype int32, ldc int32, compute int32, algo int32) int32
	cublasGemmStridedBatchedEx func(h uintptr, ta, tb int32, m, n, k int32, alpha unsafe.Pointer, a uintptr, atype int32, lda int32, sa int64, b uintptr, btype int32, ldb int32, sb int64, beta unsafe.Pointer, c uintptr, ctype int32, ldc int32, sc int64, batch int32, compute int32, algo int32) int32
}

// cuBLAS enums.
const (
	opN            = 0
	opT            = 1
	dataR16F       = 2  // CUDA_R_16F
	dataR16BF      = 14 // CUDA_R_16BF
	dataR32F       = 0  // CUDA_R_32F
	computeF32     = 68 // CUBLAS_COMPUTE_32F
	gemmDefaultTOp = 99 // CUBLAS_GEMM_DEFAULT_TENSOR_OP
	mathTensorOp   = 0  // CUBLAS_DEFAULT_MATH (tensor cores allowed for fp16)
)

func loadCublas() (*cublas, error) {
	var lib uintptr
	var name string
	var errs []string
	for _, n := range []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11"} {
		l, err := purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			lib, name = l, n
			break
		}
		errs = append(errs, err.Error())
	}
	if lib == 0 {
		return nil, fmt.Errorf("load cuBLAS (libcublas.so.13, .12 or .11): %v", errs)
	}
	c := &cublas{name: name}
	err := bind(lib, name, map[string]any{
		"cublasCreate_v2": &c.cublasCreate, "cublasDestroy_v2": &c.cublasDestroy,
		"cublasSetStream_v2": &c.cublasSetStream, "cublasSetWorkspace_v2": &c.cublasSetWorkspace,
		"cublasSetMathMode": &c.cublasSetMathMode, "cublasGemmEx": &c.cublasGemmEx,
		"cublasGemmStridedBatchedEx": &c.cublasGemmStridedBatchedEx,
	})
	if err == nil && os.Getenv(pureGoEnv) != "reflect" {
		err = c.bindDirect(lib)
	}
	return c, err
}

func (c *cublas) check(r int32, what string) error {
	if r == 0 {
		return nil
	}
	return fmt.Errorf("%s: cuBLAS status %d", what, r)
}
