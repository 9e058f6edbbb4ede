//go:build cudaemu && amd64

package emu

/*
#cgo CXXFLAGS: -std=c++17 -O2 -DATTN_EMU -I${SRCDIR}/../src -I${SRCDIR} -Wno-unknown-pragmas
#cgo LDFLAGS: -lstdc++
#include <stdlib.h>
#include "emu_api.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Malloc allocates n bytes of emulated device memory (0 when out of memory).
func Malloc(n uint64) uintptr { return uintptr(C.emu_malloc(C.uint64_t(n))) }

// Free releases memory from Malloc.
func Free(p uintptr) { C.emu_free(C.uintptr_t(p)) }

// CopyIn copies n bytes from host memory to device memory.
func CopyIn(dst uintptr, src unsafe.Pointer, n uint64) {
	C.emu_copy_in(C.uintptr_t(dst), src, C.uint64_t(n))
}

// CopyOut copies n bytes from device memory to host memory.
func CopyOut(dst unsafe.Pointer, src uintptr, n uint64) {
	C.emu_copy_out(dst, C.uintptr_t(src), C.uint64_t(n))
}

// Copy copies n bytes between device allocations.
func Copy(dst, src uintptr, n uint64) { C.emu_copy(C.uintptr_t(dst), C.uintptr_t(src), C.uint64_t(n)) }

// Memset16 writes n 16-bit copies of v.
func Memset16(dst uintptr, v uint16, n uint64) {
	C.emu_memset16(C.uintptr_t(dst), C.uint16_t(v), C.uint64_t(n))
}

// CheckGuards reports a write outside any allocation's bounds.
func CheckGuards() error {
	var msg [256]C.char
	if C.emu_check_guards(&msg[0], C.int(len(msg))) != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}

// HostAlloc allocates n zeroed bytes of host memory outside Go's heap (what
// pinned memory is to the driver).
func HostAlloc(n uint64) unsafe.Pointer { return C.emu_host_alloc(C.uint64_t(n)) }

// HostFree releases memory from HostAlloc.
func HostFree(p unsafe.Pointer) { C.emu_host_free(p) }

// Kernel finds an emulated kernel by name: its id and parameter count.
func Kernel(name string) (id, nargs int, ok bool) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var n C.int
	i := C.emu_kernel(cs, &n)
	return int(i), int(n), i >= 0
}

// Launch runs kernel id over grid × block with smem bytes of dynamic shared
// memory; vals holds one 8-byte slot per parameter.
func Launch(id int, grid, block [3]uint32, smem uint32, vals []uint64) error {
	var msg [512]C.char
	var p *C.uint64_t
	if len(vals) > 0 {
		p = (*C.uint64_t)(unsafe.Pointer(&vals[0]))
	}
	if C.emu_launch(C.int(id), C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]), C.uint(block[0]), C.uint(block[1]),
		C.uint(block[2]), C.uint(smem), p, &msg[0], C.int(len(msg))) != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}
