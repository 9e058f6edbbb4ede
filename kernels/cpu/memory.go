package cpu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"benchtop/kernels"
)

// ErrMachineMemory marks a memory budget larger than the machine can give.
var ErrMachineMemory = errors.New("more memory than the machine has available")

// Open returns a CPU backend whose memory budget is memBytes, after checking
// that the machine has that much available (MemAvailable on Linux), so a
// budget the machine cannot back is an error now rather than the runtime's
// out-of-memory crash later. memBytes 0 is auto: DefaultMemoryBytes, or
// three quarters of what is available when that is less.
func Open(memBytes int64) (*Backend, error) {
	avail, source, known := AvailableMemory()
	switch {
	case memBytes < 0:
		return nil, fmt.Errorf("memory budget %d bytes: must not be negative", memBytes)
	case memBytes == 0:
		memBytes = DefaultMemoryBytes
		if known && avail/4*3 < memBytes {
			memBytes = avail / 4 * 3
		}
	case known && memBytes > avail:
		return nil, fmt.Errorf("memory budget %s: %w (%s available, %s)", gib(memBytes), ErrMachineMemory, gib(avail), source)
	}
	return New(memBytes), nil
}

func gib(n int64) string { return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30)) }

// largeTensor is the size from which a tensor lives outside the Go heap: the
// KV pool, the weights and the big workspace buffers. Garbage collection
// neither scans nor counts them, so the heap (and the GC's growth target)
// stays the size of the small objects, not of the pool.
const largeTensor = 1 << 20

// alloc returns n zeroed float32s: mapped anonymous memory for large
// tensors where the platform has it (region is then the mapping, for free),
// the Go heap otherwise.
func alloc(n int) (data []float32, region []byte, err error) {
	if n*4 >= largeTensor {
		region, err := mapAnon(n * 4)
		if err == nil {
			return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(region))), n), region, nil
		}
		if !errors.Is(err, errNoMmap) {
			return nil, nil, fmt.Errorf("map %d bytes: %w: %w", n*4, kernels.ErrOutOfMemory, err)
		}
	}
	return make([]float32, n), nil, nil
}

// release frees what alloc returned.
func release(region []byte) {
	if region != nil {
		unmap(region)
	}
}

// memAvailable reads the "MemAvailable: N kB" line of /proc/meminfo.
func memAvailable(raw []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "MemAvailable:" {
			n, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil || n < 0 || n > 1<<53 {
				return 0, false
			}
			if len(f) >= 3 && string(f[2]) == "kB" {
				n *= 1024
			}
			return n, true
		}
	}
	return 0, false
}
