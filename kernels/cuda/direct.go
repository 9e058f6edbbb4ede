package cuda

import (
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The calls a step makes on the host — kernel launches, cuBLAS GEMMs,
// copies, event records, graph launches — go through purego.SyscallN
// rather than the functions purego.RegisterFunc builds: those convert every
// argument through reflection, about 0.9 µs a call against 0.15 µs (an
// eager step makes a few hundred calls). BENCHTOP_PUREGO=reflect keeps the
// reflective ones, for A/B runs.
const pureGoEnv = "BENCHTOP_PUREGO"

// res is a C int result from the low 32 bits of the return register (the
// upper ones are not defined for an int).
func res(r uintptr) cuResult { return cuResult(int32(r)) }

// bindDirect rebinds the hot driver calls to direct calls of their symbols.
func (d *driver) bindDirect(lib uintptr) error {
	syms := map[string]uintptr{}
	for _, name := range []string{"cuLaunchKernel", "cuEventRecord", "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2",
		"cuMemcpyDtoDAsync_v2", "cuMemsetD16Async", "cuStreamSynchronize", "cuGraphLaunch", "cuEventSynchronize",
		"cuEventElapsedTime"} {
		s, err := purego.Dlsym(lib, name)
		if err != nil || s == 0 {
			return fmt.Errorf("libcuda.so.1 lacks %s", name)
		}
		syms[name] = s
	}
	launch := syms["cuLaunchKernel"]
	d.cuLaunchKernel = func(fn uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params, extra unsafe.Pointer) cuResult {
		r, _, _ := purego.SyscallN(launch, fn, uintptr(gx), uintptr(gy), uintptr(gz), uintptr(bx), uintptr(by), uintptr(bz),
			uintptr(shmem), stream, uintptr(params), uintptr(extra))
		return res(r)
	}
	record := syms["cuEventRecord"]
	d.cuEventRecord = func(e, s uintptr) cuResult { r, _, _ := purego.SyscallN(record, e, s); return res(r) }
	htod := syms["cuMemcpyHtoDAsync_v2"]
	d.cuMemcpyHtoDAsync = func(dst uintptr, src unsafe.Pointer, n uint64, s uintptr) cuResult {
		r, _, _ := purego.SyscallN(htod, dst, uintptr(src), uintptr(n), s)
		return res(r)
	}
	dtoh := syms["cuMemcpyDtoHAsync_v2"]
	d.cuMemcpyDtoHAsync = func(dst unsafe.Pointer, src uintptr, n uint64, s uintptr) cuResult {
		r, _, _ := purego.SyscallN(dtoh, uintptr(dst), src, uintptr(n), s)
		return res(r)
	}
	dtod := syms["cuMemcpyDtoDAsync_v2"]
	d.cuMemcpyDtoDAsync = func(dst, src uintptr, n uint64, s uintptr) cuResult {
		r, _, _ := purego.SyscallN(dtod, dst, src, uintptr(n), s)
		return res(r)
	}
	memset := syms["cuMemsetD16Async"]
	d.cuMemsetD16Async = func(dst uintptr, v uint16, n uint64, s uintptr) cuResult {
		r, _, _ := purego.SyscallN(memset, dst, uintptr(v), uintptr(n), s)
		return res(r)
	}
	ssync := syms["cuStreamSynchronize"]
	d.cuStreamSynchronize = func(s uintptr) cuResult { r, _, _ := purego.SyscallN(ssync, s); return res(r) }
	glaunch := syms["cuGraphLaunch"]
	d.cuGraphLaunch = func(exec, s uintptr) cuResult { r, _, _ := purego.SyscallN(glaunch, exec, s); return res(r) }
	esync := syms["cuEventSynchronize"]
	d.cuEventSynchronize = func(e uintptr) cuResult { r, _, _ := purego.SyscallN(esync, e); return res(r) }
	elapsed := syms["cuEventElapsedTime"]
	d.cuEventElapsedTime = func(ms *float32, a, b uintptr) cuResult {
		r, _, _ := purego.SyscallN(elapsed, uintptr(unsafe.Pointer(ms)), a, b)
		return res(r)
	}
	return nil
}

// bindDirect rebinds cublasGemmEx, a step's most frequent cuBLAS call.
func (c *cublas) bindDirect(lib uintptr) error {
	gemm, err := purego.Dlsym(lib, "cublasGemmEx")
	if err != nil || gemm == 0 {
		return fmt.Errorf("%s lacks cublasGemmEx", c.name)
	}
	c.cublasGemmEx = func(h uintptr, ta, tb int32, m, n, k int32, alpha unsafe.Pointer, a uintptr, atype int32, lda int32,
		b uintptr, btype int32, ldb int32, beta unsafe.Pointer, cc uintptr, ctype int32, ldc int32, compute int32, algo int32) int32 {
		r, _, _ := purego.SyscallN(gemm, h, uintptr(ta), uintptr(tb), uintptr(m), uintptr(n), uintptr(k), uintptr(alpha), a,
			uintptr(atype), uintptr(lda), b, uintptr(btype), uintptr(ldb), uintptr(beta), cc, uintptr(ctype), uintptr(ldc),
			uintptr(compute), uintptr(algo))
		return int32(r)
	}
	return nil
}
