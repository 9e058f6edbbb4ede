package cuda

import (
	"regexp"
	"testing"
)

// TestKernelNamesInPTX: every kernel the backend looks up is an entry of
// its embedded module (a misspelt instantiation fails here, without a GPU).
func TestKernelNamesInPTX(t *testing.T) {
	for mod, fns := range kernelsIn {
		src, err := ptxFS.ReadFile("ptx/" + mod + ".ptx")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fns {
			if !regexp.MustCompile(`\.entry ` + f + `\(`).Match(src) {
				t.Errorf("kernel %s is not an entry of %s.ptx", f, mod)
			}
		}
	}
}
