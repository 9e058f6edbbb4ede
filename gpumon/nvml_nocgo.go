//go:build !cgo

package gpumon

import "errors"

// noNVML stands in where the binary was built without cgo: go-nvml's
// bindings need it, so there is no NVML and the panels say why.
type noNVML struct{}

func nvmlSource() Source { return noNVML{} }

func (noNVML) Open() (string, int, error) {
	return "", 0, errors.New("no NVML: this benchtop was built with CGO_ENABLED=0 and go-nvml needs cgo")
}
func (noNVML) Read(int) GPU { return GPU{} }
func (noNVML) Close()       {}
