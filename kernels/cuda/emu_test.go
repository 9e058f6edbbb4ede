//go:build cudaemu && amd64

package cuda

import (
	"unsafe"

	"benchtop/kernels/cuda/emu"
)

// With the cudaemu tag, the attention tests run against kernels/cuda/emu: a
// Backend whose driver API is a fake that keeps device memory in host
// memory and runs the emulated attention kernels, so the wrapper, the step
// metadata, the plan, graph capture and the kernels are checked together
// without a GPU:
//
//	go test -tags cudaemu ./kernels/cuda -run Attention
func init() {
	openAttnBackend = openEmu
	emulated = true
}

// emuOp is one captured stream operation.
type emuOp struct {
	kernel int
	grid   dim3
	block  dim3
	smem   uint32
	vals   []uint64
	// a copy from host memory when kernel < 0
	dst uintptr
	src unsafe.Pointer
	n   uint64
}

type emuDevice struct {
	capturing bool
	ops       []emuOp
	graphs    map[uintptr][]emuOp
	next      uintptr
	kernelIDs map[uintptr]int // function handle → emulated kernel (-1: not emulated)
	nargs     map[uintptr]int
	names     map[uintptr]string
	lastErr   []byte // NUL-terminated, for cuGetErrorString
}

const emuErr = cuResult(999)

func openEmu() (*Backend, error) {
	e := &emuDevice{graphs: map[uintptr][]emuOp{}, next: 1, kernelIDs: map[uintptr]int{}, nargs: map[uintptr]int{}, names: map[uintptr]string{}}
	d := &driver{}
	d.cuMemAlloc = func(p *uintptr, size uint64) cuResult {
		*p = emu.Malloc(size)
		if *p == 0 {
			return 2
		}
		return 0
	}
	d.cuMemFree = func(p uintptr) cuResult { emu.Free(p); return 0 }
	d.cuMemAllocHost = func(p *unsafe.Pointer, size uint64) cuResult { *p = emu.HostAlloc(size); return 0 }
	d.cuMemFreeHost = func(p unsafe.Pointer) cuResult { emu.HostFree(p); return 0 }
	d.cuMemcpyHtoDAsync = func(dst uintptr, src unsafe.Pointer, n uint64, _ uintptr) cuResult {
		if e.capturing {
			e.ops = append(e.ops, emuOp{kernel: -1, dst: dst, src: src, n: n})
			return 0
		}
		emu.CopyIn(dst, src, n)
		return 0
	}
	d.cuMemcpyDtoHAsync = func(dst unsafe.Pointer, src uintptr, n uint64, _ uintptr) cuResult {
		emu.CopyOut(dst, src, n)
		return 0
	}
	d.cuMemcpyDtoDAsync = func(dst, src uintptr, n uint64, _ uintptr) cuResult { emu.Copy(dst, src, n); return 0 }
	d.cuMemsetD16Async = func(dst uintptr, v uint16, n uint64, _ uintptr) cuResult { emu.Memset16(dst, v, n); return 0 }
	d.cuStreamSynchronize = func(uintptr) cuResult { return 0 }
	d.cuModuleLoadData = func(m *uintptr, _ unsafe.Pointer) cuResult { *m = 1; return 0 }
	d.cuModuleGetFunction = func(fn *uintptr, _ uintptr, name *byte) cuResult {
		s := cString(name)
		h := e.next
		e.next++
		id, n, ok := emu.Kernel(s)
		if !ok {
			id = -1
		}
		e.kernelIDs[h], e.nargs[h], e.names[h] = id, n, s
		*fn = h
		return 0
	}
	d.cuFuncSetAttribute = func(uintptr, int32, int32) cuResult { return 0 }
	d.cuDeviceGetAttribute = func(v *int32, attr int32, _ int32) cuResult {
		switch attr {
		case attrMaxSharedPerBlockOptin:
			*v = 227 << 10
		case attrMaxSharedPerSM:
			*v = 228 << 10
		default:
			*v = 0
		}
		return 0
	}
	d.cuLaunchKernel = func(fn uintptr, gx, gy, gz, bx, by, bz, shmem uint32, _ uintptr, params, _ unsafe.Pointer) cuResult {
		id := e.kernelIDs[fn]
		if id < 0 {
			e.lastErr = []byte(e.names[fn] + " is not emulated\x00")
			return emuErr
		}
		ptrs := unsafe.Slice((*unsafe.Pointer)(params), e.nargs[fn])
		vals := make([]uint64, len(ptrs))
		for i, p := range ptrs {
			vals[i] = *(*uint64)(p)
		}
		op := emuOp{kernel: id, grid: dim3{gx, gy, gz}, block: dim3{bx, by, bz}, smem: shmem, vals: vals}
		if e.capturing {
			e.ops = append(e.ops, op)
			return 0
		}
		return e.run(op)
	}
	d.cuEventCreate = func(e *uintptr, _ uint32) cuResult { *e = 1; return 0 }
	d.cuEventDestroy = func(uintptr) cuResult { return 0 }
	d.cuEventRecord = func(_, _ uintptr) cuResult { return 0 }
	d.cuEventSynchronize = func(uintptr) cuResult { return 0 }
	d.cuEventElapsedTime = func(ms *float32, _, _ uintptr) cuResult { *ms = 0; return 0 }
	d.cuStreamBeginCapture = func(uintptr, int32) cuResult { e.capturing, e.ops = true, nil; return 0 }
	d.cuStreamEndCapture = func(_ uintptr, g *uintptr) cuResult {
		*g = e.next
		e.next++
		e.graphs[*g], e.capturing = e.ops, false
		return 0
	}
	d.cuGraphInstantiate = func(exec *uintptr, g uintptr, _ uint64) cuResult { *exec = g; return 0 }
	d.cuGraphLaunch = func(exec, _ uintptr) cuResult {
		for _, op := range e.graphs[exec] {
			if r := e.run(op); r != 0 {
				return r
			}
		}
		return 0
	}
	d.cuGraphExecDestroy = func(uintptr) cuResult { return 0 }
	d.cuGraphDestroy = func(g uintptr) cuResult { delete(e.graphs, g); return 0 }
	d.cuGetErrorString = func(_ cuResult, s **byte) cuResult {
		if len(e.lastErr) == 0 {
			e.lastErr = []byte("emulated CUDA error\x00")
		}
		*s = &e.lastErr[0]
		return 0
	}

	b := &Backend{d: d, name: "emulated GPU", cc: [2]int32{8, 0}, sms: 2, total: 1 << 34, mods: map[string]uintptr{},
		fns: map[string]uintptr{}, graphs: map[int]*graph{}, allocs: map[uintptr]int64{}}
	if err := b.loadModules(); err != nil {
		return nil, err
	}
	var err error
	if b.args, err = newArgArena(d); err != nil {
		return nil, err
	}
	b.meta = &metaBuffers{}
	return b, nil
}

func (e *emuDevice) run(op emuOp) cuResult {
	if op.kernel < 0 {
		emu.CopyIn(op.dst, op.src, op.n)
		return 0
	}
	err := emu.Launch(op.kernel, op.grid, op.block, op.smem, op.vals)
	if err == nil {
		err = emu.CheckGuards()
	}
	if err != nil {
		e.lastErr = append([]byte(err.Error()), 0)
		return emuErr
	}
	return 0
}
