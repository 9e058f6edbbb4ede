package cuda

import (
	"errors"
	"fmt"
	"strings"
)

// GPU is one device the driver sees.
type GPU struct {
	Ordinal     int
	Name        string
	MemoryBytes int64
}

// ErrNoSuchGPU is returned for a GPU ordinal the driver does not see.
var ErrNoSuchGPU = errors.New("no such GPU")

// Devices lists the GPUs the driver sees (after CUDA_VISIBLE_DEVICES),
// without creating a context: for checking a data-parallel size or a list
// of devices before opening any. An error says why there are none to list
// (no driver, a driver without a symbol, cuInit failing).
func Devices() ([]GPU, error) {
	d, n, err := initDriver()
	if err != nil {
		return nil, err
	}
	return listGPUs(d, n), nil
}

// initDriver loads the driver, initialises it and counts the GPUs it sees.
func initDriver() (*driver, int, error) {
	d, err := loadDriver()
	if err != nil {
		return nil, 0, err
	}
	if err := d.check(d.cuInit(0), "cuInit"); err != nil {
		return nil, 0, err
	}
	var n int32
	if err := d.check(d.cuDeviceGetCount(&n), "cuDeviceGetCount"); err != nil {
		return nil, 0, err
	}
	return d, int(n), nil
}

func listGPUs(d *driver, n int) []GPU {
	out := make([]GPU, 0, n)
	for i := 0; i < n; i++ {
		g := GPU{Ordinal: i, Name: "?"}
		var dev int32
		if d.cuDeviceGet(&dev, int32(i)) == 0 {
			name := make([]byte, 256)
			if d.cuDeviceGetName(&name[0], int32(len(name)), dev) == 0 {
				g.Name = cString(&name[0])
			}
			var total uint64
			if d.cuDeviceTotalMem(&total, dev) == 0 {
				g.MemoryBytes = int64(total)
			}
		}
		out = append(out, g)
	}
	return out
}

// DescribeGPUs names GPUs as "0 (NVIDIA H200), 1 (NVIDIA H200)", or "none".
func DescribeGPUs(gs []GPU) string {
	if len(gs) == 0 {
		return "none"
	}
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%d (%s)", g.Ordinal, g.Name)
	}
	return strings.Join(parts, ", ")
}

func errNoSuchGPU(d *driver, n int) error {
	return fmt.Errorf("%w: the driver sees %d: %s", ErrNoSuchGPU, n, DescribeGPUs(listGPUs(d, n)))
}
