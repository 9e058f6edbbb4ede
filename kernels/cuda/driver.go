package cuda

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/ebitengine/purego"
)

// cuResult is a CUresult.
type cuResult int32

// driver holds the CUDA driver API entry points benchtop uses.
type driver struct {
	lib uintptr

	cuInit                    func(flags uint32) cuResult
	cuDriverGetVersion        func(v *int32) cuResult
	cuDeviceGet               func(dev *int32, ordinal int32) cuResult
	cuDeviceGetCount          func(n *int32) cuResult
	cuDeviceGetName           func(name *byte, n int32, dev int32) cuResult
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) cuResult
	cuDeviceTotalMem          func(bytes *uint64, dev int32) cuResult
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) cuResult
	cuDevicePrimaryCtxRelease func(dev int32) cuResult
	cuCtxSetCurrent           func(ctx uintptr) cuResult
	cuCtxSynchronize          func() cuResult
	cuMemAlloc                func(p *uintptr, size uint64) cuResult
	cuMemFree                 func(p uintptr) cuResult
	cuMemAllocHost            func(p *unsafe.Pointer, size uint64) cuResult
	cuMemFreeHost             func(p unsafe.Pointer) cuResult
	cuMemcpyHtoDAsync         func(dst uintptr, src unsafe.Pointer, n uint64, stream uintptr) cuResult
	cuMemcpyDtoHAsync         func(dst unsafe.Pointer, src uintptr, n uint64, stream uintptr) cuResult
	cuMemcpyDtoDAsync         func(dst, src uintptr, n uint64, stream uintptr) cuResult
	cuMemsetD16Async          func(dst uintptr, v uint16, n uint64, stream uintptr) cuResult
	cuMemGetInfo              func(free, total *uint64) cuResult
	cuModuleLoadData          func(mod *uintptr, image unsafe.Pointer) cuResult
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name *byte) cuResult
	cuFuncSetAttribute        func(fn uintptr, attr int32, v int32) cuResult
	cuLaunchKernel            func(fn uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params unsafe.Pointer, extra unsafe.Pointer) cuResult
	cuStreamCreate            func(s *uintptr, flags uint32) cuResult
	cuStreamSynchronize       func(s uintptr) cuResult
	cuEventCreate             func(e *uintptr, flags uint32) cuResult
	cuEventRecord             func(e, s uintptr) cuResult
	cuEventSynchronize        func(e uintptr) cuResult
	cuEventElapsedTime        func(ms *float32, start, end uintptr) cuResult
	cuStreamBeginCapture      func(s uintptr, mode int32) cuResult
	cuStreamEndCapture        func(s uintptr, graph *uintptr) cuResult
	cuGraphInstantiate        func(exec *uintptr, graph uintptr, flags uint64) cuResult
	cuGraphLaunch             func(exec, s uintptr) cuResult
	cuGraphExecDestroy        func(exec uintptr) cuResult
	cuGraphDestroy            func(g uintptr) cuResult
	cuGetErrorString          func(r cuResult, s **byte) cuResult
	cuEventDestroy            func(e uintptr) cuResult
	// Optional (nil when the driver lacks them): the profiler window.
	cuProfilerStart func() cuResult
	cuProfilerStop  func() cuResult
}

// bind resolves each symbol first, so a driver that lacks one gives a Go
// error instead of a crash.
func bind(lib uintptr, libName string, fns map[string]any) error {
	for name, fptr := range fns {
		sym, err := purego.Dlsym(lib, name)
		if err != nil || sym == 0 {
			return fmt.Errorf("%s lacks %s", libName, name)
		}
		purego.RegisterFunc(fptr, sym)
	}
	return nil
}

func loadDriver() (*driver, error) {
	lib, err := purego.Dlopen("libcuda.so.1", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("load the CUDA driver (libcuda.so.1): %v", err)
	}
	d := &driver{lib: lib}
	err = bind(lib, "libcuda.so.1", map[string]any{
		"cuInit": &d.cuInit, "cuDriverGetVersion": &d.cuDriverGetVersion, "cuDeviceGet": &d.cuDeviceGet,
		"cuDeviceGetCount": &d.cuDeviceGetCount, "cuDeviceGetName": &d.cuDeviceGetName,
		"cuDeviceGetAttribute": &d.cuDeviceGetAttribute, "cuDeviceTotalMem_v2": &d.cuDeviceTotalMem,
		"cuDevicePrimaryCtxRetain": &d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRelease_v2": &d.cuDevicePrimaryCtxRelease,
		"cuCtxSetCurrent": &d.cuCtxSetCurrent, "cuCtxSynchronize": &d.cuCtxSynchronize,
		"cuMemAlloc_v2": &d.cuMemAlloc, "cuMemFree_v2": &d.cuMemFree, "cuMemAllocHost_v2": &d.cuMemAllocHost,
		"cuMemFreeHost": &d.cuMemFreeHost, "cuMemcpyHtoDAsync_v2": &d.cuMemcpyHtoDAsync,
		"cuMemcpyDtoHAsync_v2": &d.cuMemcpyDtoHAsync, "cuMemcpyDtoDAsync_v2": &d.cuMemcpyDtoDAsync,
		"cuMemsetD16Async": &d.cuMemsetD16Async, "cuMemGetInfo_v2": &d.cuMemGetInfo,
		"cuModuleLoadData": &d.cuModuleLoadData, "cuModuleGetFunction": &d.cuModuleGetFunction,
		"cuFuncSetAttribute": &d.cuFuncSetAttribute, "cuLaunchKernel": &d.cuLaunchKernel,
		"cuStreamCreate": &d.cuStreamCreate, "cuStreamSynchronize": &d.cuStreamSynchronize,
		"cuEventCreate": &d.cuEventCreate, "cuEventRecord": &d.cuEventRecord,
		"cuEventSynchronize": &d.cuEventSynchronize, "cuEventElapsedTime": &d.cuEventElapsedTime,
		"cuStreamBeginCapture_v2": &d.cuStreamBeginCapture, "cuStreamEndCapture": &d.cuStreamEndCapture,
		"cuGraphInstantiateWithFlags": &d.cuGraphInstantiate, "cuGraphLaunch": &d.cuGraphLaunch,
		"cuGraphExecDestroy": &d.cuGraphExecDestroy, "cuGraphDestroy": &d.cuGraphDestroy,
		"cuGetErrorString": &d.cuGetErrorString, "cuEventDestroy_v2": &d.cuEventDestroy,
	})
	if err != nil {
		return nil, err
	}
	for name, fptr := range map[string]*func() cuResult{"cuProfilerStart": &d.cuProfilerStart, "cuProfilerStop": &d.cuProfilerStop} {
		if sym, err := purego.Dlsym(lib, name); err == nil && sym != 0 {
			purego.RegisterFunc(fptr, sym)
		}
	}
	if os.Getenv(pureGoEnv) != "reflect" {
		if err := d.bindDirect(lib); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// check turns a CUresult into an error naming the call.
func (d *driver) check(r cuResult, what string) error {
	if r == 0 {
		return nil
	}
	var s *byte
	msg := "unknown error"
	if d.cuGetErrorString(r, &s) == 0 && s != nil {
		msg = cString(s)
	}
	return fmt.Errorf("%s: CUDA error %d (%s)", what, r, msg)
}

func cString(p *byte) string {
	var b []byte
	for q := unsafe.Pointer(p); *(*byte)(q) != 0; q = unsafe.Add(q, 1) {
		b = append(b, *(*byte)(q))
	}
	return string(b)
}

// CUdevice_attribute values used here.
const (
	attrComputeCapabilityMajor = 75
	attrComputeCapabilityMinor = 76
	attrMultiprocessorCount    = 16
	attrMaxSharedPerBlockOptin = 97
)
