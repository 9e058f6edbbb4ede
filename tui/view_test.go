package tui

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"benchtop/engine"
	"benchtop/gpumon"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden") // testdata/<Test>/<case>.golden
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update)", err)
	}
	if string(want) != got {
		t.Errorf("differs from %s:\n%s", path, got)
	}
}

func TestView(t *testing.T) {
	cases := []struct {
		name string
		w, h int
		prep func(*Model)
	}{
		{"80x24", 80, 24, nil},
		{"120x40", 120, 40, nil},
		{"200x50", 200, 50, nil},
		{"too-narrow-60x20", 60, 20, nil},
		{"help-100x30", 100, 30, func(m *Model) { m.showHelp = true }},
		{"picker-80x24", 80, 24, func(m *Model) { m.picking, m.pick = true, 1 }},
		{"no-gpu-80x24", 80, 24, func(m *Model) {
			m.frame.GPU = &gpumon.State{Reason: "no NVML: Driver Not Loaded"}
		}},
		{"engine-error-80x24", 80, 24, func(m *Model) {
			st := *m.frame.Status
			st.State, st.Err = engine.StateFailed, errors.New("execute step 12: CUDA error 700 (an illegal memory access was encountered)")
			m.frame.Status = &st
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := New(&recorder{frame: fixedFrame()})
			if c.prep != nil {
				c.prep(&m)
			}
			m.SetSize(c.w, c.h)
			out := m.Render()
			plain := ansi.Strip(out)
			lines := strings.Split(plain, "\n")
			if c.w >= MinWidth && len(lines) > c.h {
				t.Errorf("%d lines for a terminal of %d", len(lines), c.h)
			}
			for i, l := range lines {
				if lipgloss.Width(l) > c.w {
					t.Errorf("line %d is %d wide in %d: %q", i, lipgloss.Width(l), c.w, l)
				}
			}
			golden(t, plain)
		})
	}
}
