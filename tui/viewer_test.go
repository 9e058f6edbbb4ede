package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"benchtop/session"
	"benchtop/snapshot"
)

// view reopens v1 snapshots too: a sparse v1 file draws at 80×24 with —
// for what it lacks, and only help and quit in its legend.
func TestViewerReadsV1(t *testing.T) {
	v1 := `{"schema":"benchtop.snapshot/v1","created":"2026-11-27T12:00:00Z","workload":"bench",
"status":{"Config":{"MaxNumSeqs":50,"BlockSize":16},"Plan":{"NumBlocks":99,"KVDType":1},"Device":{"Backend":"cuda","Name":"H100"},
"Model":"opt-125m","Synthetic":true,"State":"running","Err":""},
"changes":null,"metrics":{"finished":3,"series":[{"t_ns":0,"output_tps":5}]},"gpu":{"available":false,"reason":"no NVML","history":null},
"segments":null,"requests":[{"id":"a","output_tokens":4}]}`
	p := filepath.Join(t.TempDir(), "v1.json")
	if err := os.WriteFile(p, []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := snapshot.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	m := NewViewer(session.FrameOf(f, p))
	m.SetSize(80, 24)
	out := ansi.Strip(m.Render())
	lines := strings.Split(out, "\n")
	if len(lines) != 24 || !strings.Contains(lines[0], "● snapshot") || !strings.Contains(out, "TTFT —") {
		t.Fatalf("v1 view:\n%s", out)
	}
	if legend := lines[23]; !strings.Contains(legend, "q quit") || strings.Contains(legend, "batch") || strings.Contains(legend, "workload") {
		t.Fatalf("legend %q", legend)
	}
}
