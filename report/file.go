package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// StaleAfter is how old one of our temporary files must be before a later
// write removes it: older than any write takes, so a write still under way
// in another process is never touched.
const StaleAfter = time.Minute

// WriteFile writes data to path whole or not at all (renameio: a
// temporary file beside path, synced, then renamed over it), after
// removing the stale temporary files that killed writes of path left.
func WriteFile(path string, data []byte) error {
	cleanFor(path)
	if err := renameio.WriteFile(path, data, 0o644, renameio.WithTempDir(filepath.Dir(path))); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// beforeRename, set by tests, runs once every part is staged and before
// any is renamed (where a kill hurts most).
var beforeRename func()

// Part is one file of a set.
type Part struct {
	Path string
	Data []byte
}

// WriteSet writes the files of a set so that none appears before every one
// of them is whole on disk: each is first written to its own temporary file
// and synced, then they are renamed into place in order, the last one (the
// set's manifest: the file a reader opens first) last. A failure before the
// renames leaves no file of the set; the temporary files are removed, or,
// when the process was killed, by the next write in that folder. It returns
// the paths renamed into place.
func WriteSet(parts []Part) ([]string, error) {
	pending := make([]*renameio.PendingFile, len(parts))
	defer func() {
		for _, p := range pending {
			if p != nil {
				p.Cleanup() // a no-op once renamed
			}
		}
	}()
	for i, p := range parts {
		dir := filepath.Dir(p.Path)
		cleanFor(p.Path)
		f, err := renameio.NewPendingFile(p.Path, renameio.WithTempDir(dir), renameio.WithPermissions(0o644))
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", p.Path, err)
		}
		pending[i] = f
		if _, err := f.Write(p.Data); err != nil {
			return nil, fmt.Errorf("write %s: %w", p.Path, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("write %s: %w", p.Path, err)
		}
	}
	if beforeRename != nil {
		beforeRename()
	}
	var out []string
	for i, f := range pending {
		if err := f.CloseAtomicallyReplace(); err != nil {
			return out, fmt.Errorf("write %s: %w", parts[i].Path, err)
		}
		out = append(out, parts[i].Path)
	}
	return out, nil
}

// TempOf is the name of the file a temporary file of ours stands for: name
// is renameio's ".NAME<random digits>" or the ".NAME.tmp-<random>" of
// earlier versions; ok is false for any other name.
func TempOf(name string) (target string, ok bool) {
	if len(name) < 3 || name[0] != '.' {
		return "", false
	}
	rest := name[1:]
	if i := strings.LastIndex(rest, ".tmp-"); i > 0 {
		return rest[:i], true
	}
	j := len(rest)
	for j > 0 && rest[j-1] >= '0' && rest[j-1] <= '9' {
		j--
	}
	if j == len(rest) || j == 0 || len(rest)-j > 19 {
		return "", false
	}
	return rest[:j], true
}

// CleanStale removes, from dir, our temporary files (TempOf) for the files
// match accepts that are older than StaleAfter: what writes killed before
// their rename left. It returns how many it removed; it never fails a
// write, so an error only leaves a file behind.
func CleanStale(dir string, match func(target string) bool) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		target, ok := TempOf(e.Name())
		if !ok || !e.Type().IsRegular() || !match(target) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < StaleAfter {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}

// cleanFor removes the stale temporary files of path.
func cleanFor(path string) {
	base := filepath.Base(path)
	CleanStale(filepath.Dir(path), func(t string) bool { return t == base })
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFile(path, append(data, '\n'))
}

// CheckWritable fails early when path cannot be written, before minutes of
// benchmarking are spent. An empty path is fine (nothing to write).
func CheckWritable(path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("output %s is a directory", path)
	}
	if err := CheckWritableDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	return nil
}

// CheckWritableDir fails when no file can be created in dir, saying
// whether the folder is missing or refuses writes (and why: "read-only file
// system", "permission denied").
func CheckWritableDir(dir string) error {
	CleanStale(dir, func(t string) bool { return t == "benchtop-check-" }) // our own, from a killed check
	f, err := os.CreateTemp(dir, ".benchtop-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the probe's own name says nothing to the user
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("folder %s does not exist", dir)
		}
		return fmt.Errorf("folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
