package cpu

import (
	"errors"
	"runtime"
	"testing"

	"benchtop/kernels"
)

func TestMemAvailableParsing(t *testing.T) {
	raw := []byte("MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   23000000 kB\n")
	if n, ok := memAvailable(raw); !ok || n != 23000000*1024 {
		t.Fatalf("%d %v", n, ok)
	}
	for _, bad := range []string{"", "MemAvailable: lots kB\n", "MemAvailable: -5 kB\n", "MemAvailable: 99999999999999999999 kB\n"} {
		if _, ok := memAvailable([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestOpenChecksTheMachine(t *testing.T) {
	avail, _, known := AvailableMemory()
	if !known {
		t.Skip("unknown available memory here")
	}
	if _, err := Open(avail + 1<<30); !errors.Is(err, ErrMachineMemory) {
		t.Fatalf("a budget over what is available: %v", err)
	}
	b, err := Open(0)
	if err != nil || b.memBytes > DefaultMemoryBytes || b.memBytes > avail {
		t.Fatalf("auto: %v, %d bytes", err, b.memBytes)
	}
	if _, err := Open(-1); err == nil {
		t.Fatal("negative budget accepted")
	}
}

// Shapes whose size overflows are out-of-memory errors, not panics.
func TestAllocOverflowIsAnError(t *testing.T) {
	b := New(1 << 30)
	for _, shape := range [][]int{{1 << 40, 1 << 40}, {-3, -3}, {1 << 62, 4}, {1 << 30, 1 << 10}} {
		if _, err := b.Alloc(kernels.F32, shape...); !errors.Is(err, kernels.ErrOutOfMemory) {
			t.Errorf("%v: %v, want ErrOutOfMemory", shape, err)
		}
	}
	if b.MemoryInUse() != 0 {
		t.Fatalf("%d bytes in use after failed allocations", b.MemoryInUse())
	}
}

// Large tensors live outside the Go heap and go back to the system on
// Free; views own nothing.
func TestLargeTensorsAreMappedOffTheHeap(t *testing.T) {
	b := New(1 << 31)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x, err := b.Alloc(kernels.F32, 64<<20) // 256 MiB
	if err != nil {
		t.Fatal(err)
	}
	ct := x.(*Tensor)
	ct.Data[len(ct.Data)-1] = 3 // writable to the end
	runtime.ReadMemStats(&after)
	if runtime.GOOS == "linux" {
		if ct.region == nil {
			t.Fatal("a 256 MiB tensor was not mapped")
		}
		if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
			t.Fatalf("the Go heap grew by %d bytes for a mapped tensor", grew)
		}
	}
	v, _ := b.View(x, 10)
	b.Free(v)
	if b.MemoryInUse() != 256<<20 {
		t.Fatalf("freeing a view changed the memory in use to %d", b.MemoryInUse())
	}
	b.Free(x)
	if b.MemoryInUse() != 0 || ct.Data != nil || ct.region != nil {
		t.Fatalf("after Free: %d in use", b.MemoryInUse())
	}
	small, _ := b.Alloc(kernels.F32, 10)
	if small.(*Tensor).region != nil {
		t.Fatal("a small tensor was mapped")
	}
}
