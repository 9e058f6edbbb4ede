package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPTXInStep fails when a kernel source changed without `go generate`
// (CI has no nvcc, so the recorded hash is what catches a stale PTX).
func TestPTXInStep(t *testing.T) {
	srcs, _ := filepath.Glob("src/*.cu")
	if len(srcs) == 0 {
		t.Fatal("no kernel sources")
	}
	// Every header counts for every module, in byte order of the names
	// (gen.sh hashes them the same way).
	headers, _ := filepath.Glob("src/*.cuh")
	var common []byte
	for _, h := range headers {
		body, err := os.ReadFile(h)
		if err != nil {
			t.Fatal(err)
		}
		common = append(common, body...)
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".cu")
		body, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append(body, common...))
		rec, err := os.ReadFile(filepath.Join("ptx", name+".sha256"))
		if err != nil {
			t.Fatalf("%s: no recorded hash: run go generate ./kernels/cuda", name)
		}
		if strings.TrimSpace(string(rec)) != hex.EncodeToString(sum[:]) {
			t.Errorf("%s.ptx is stale: %s changed; run go generate ./kernels/cuda (needs nvcc)", name, src)
		}
		if _, ok := kernelsIn[name]; !ok {
			t.Errorf("%s.ptx is not loaded by the backend", name)
		}
	}
	if len(ptxNames()) != len(srcs) {
		t.Errorf("%d PTX files for %d sources", len(ptxNames()), len(srcs))
	}
}

// TestOpenWithoutGPU: where there is no driver or GPU, Open is an error, not a crash.
func TestOpenWithoutGPU(t *testing.T) {
	b, err := Open()
	if err == nil {
		b.Close()
		t.Skip("a GPU is present")
	}
	t.Logf("no GPU: %v", err)
}
