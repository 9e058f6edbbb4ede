package engine

import (
	"fmt"

	"benchtop/kernels"
	"benchtop/kernels/cpu"
	"benchtop/kernels/cuda"
)

// OpenBackend picks the device: "cpu", "cuda", or "auto" (a GPU when one is
// usable, else the CPU). note says what auto chose and why.
func OpenBackend(device string, cpuMemBytes int64) (be kernels.Backend, note string, err error) {
	switch device {
	case "cpu":
		return cpu.New(cpuMemBytes), "", nil
	case "cuda":
		b, err := openCUDA()
		if err != nil {
			return nil, "", fmt.Errorf("--device cuda: %w", err)
		}
		return b, "", nil
	case "auto", "":
		if b, err := openCUDA(); err == nil {
			return b, "", nil
		} else {
			return cpu.New(cpuMemBytes), fmt.Sprintf("no usable GPU (%v): running on the CPU backend", err), nil
		}
	}
	return nil, "", fmt.Errorf("--device %q: want auto, cpu or cuda", device)
}

// openCUDA opens the first GPU; the caller's goroutine becomes the device
// goroutine (CUDA contexts are bound to OS threads).
var openCUDA = func() (kernels.Backend, error) {
	b, err := cuda.Open()
	if err != nil {
		return nil, err
	}
	return b, nil
}
