//go:build unix

package cpu

import (
	"errors"

	"golang.org/x/sys/unix"
)

var errNoMmap = errors.New("no anonymous mappings on this platform")

// mapAnon maps n zeroed bytes of private anonymous memory.
func mapAnon(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
}

// unmap returns a mapping to the system. A failure can only mean the region
// was not a mapping of ours, a bug, so it panics rather than leak silently.
func unmap(b []byte) {
	if err := unix.Munmap(b); err != nil {
		panic("cpu: munmap: " + err.Error())
	}
}
