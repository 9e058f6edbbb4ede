//go:build !unix

package cpu

import "errors"

var errNoMmap = errors.New("no anonymous mappings on this platform")

func mapAnon(int) ([]byte, error) { return nil, errNoMmap }

func unmap([]byte) {}
