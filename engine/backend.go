package engine

import (
	"fmt"

	"benchtop/kernels"
	"benchtop/kernels/cpu"
	"benchtop/kernels/cuda"
)

// OpenBackend picks the device: "cpu", "cuda", or "auto" (a GPU when one is
// usable, else the CPU). note says what auto chose and why. cpuMemBytes is
// the CPU backend's memory budget (0: auto); one larger than the machine has
// available is an error naming --cpu-memory.
func OpenBackend(device string, cpuMemBytes int64) (be kernels.Backend, note string, err error) {
	return OpenBackendOn(device, 0, cpuMemBytes)
}

// OpenBackendOn is OpenBackend on GPU ordinal (a data-parallel replica's):
// the CPU backend ignores the ordinal (replicas there share the cores).
func OpenBackendOn(device string, ordinal int, cpuMemBytes int64) (be kernels.Backend, note string, err error) {
	openCPU := func() (kernels.Backend, error) {
		b, err := cpu.Open(cpuMemBytes)
		if err != nil {
			return nil, fmt.Errorf("--cpu-memory: %w", err)
		}
		return b, nil
	}
	switch device {
	case "cpu":
		b, err := openCPU()
		return b, "", err
	case "cuda":
		b, err := openCUDA(ordinal)
		if err != nil {
			return nil, "", fmt.Errorf("--device cuda: %w", err)
		}
		return b, "", nil
	case "auto", "":
		b, err := openCUDA(ordinal)
		if err == nil {
			return b, "", nil
		}
		note := fmt.Sprintf("no usable GPU (%v): running on the CPU backend", err)
		c, err := openCPU()
		if err != nil {
			return nil, note, err
		}
		return c, note, nil
	}
	return nil, "", fmt.Errorf("--device %q: want auto, cpu or cuda", device)
}

// openCUDA opens GPU ordinal; the caller's goroutine becomes the device
// goroutine (CUDA contexts are bound to OS threads).
var openCUDA = func(ordinal int) (kernels.Backend, error) {
	b, err := cuda.OpenDevice(ordinal)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// GPU is one GPU the CUDA driver sees.
type GPU = cuda.GPU

// GPUs lists the GPUs the CUDA driver sees, without opening any; the error
// says why there are none (no driver, say).
func GPUs() ([]GPU, error) { return cuda.Devices() }

// DescribeGPUs names GPUs as "0 (NVIDIA H200), 1 (NVIDIA H200)", or "none".
func DescribeGPUs(gs []GPU) string { return cuda.DescribeGPUs(gs) }
