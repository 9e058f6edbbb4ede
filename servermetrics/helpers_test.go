package servermetrics

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// Helpers the servermetrics tests share: expositions read and mapped, and
// checks of a sample's measures and histograms.

func load(t testing.TB, file string) Families {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// want checks one measure: a number with its source, or not exposed (-1).
func want(t *testing.T, s *Sample, m Measure, v float64, src string) {
	t.Helper()
	got := s.Get(m)
	if src == "" {
		if got.Exposed || got.Source != "" || got.String() != NotExposed {
			t.Errorf("%s: got %+v, want not exposed", m, got)
		}
		return
	}
	if !got.Exposed || !near(got.Value, v) || got.Source != src {
		t.Errorf("%s: got %+v, want %g from %s", m, got, v, src)
	}
}

func wantQuantile(t *testing.T, h *Histogram, q, v float64) {
	t.Helper()
	if got := h.Quantile(q); !near(got, v) {
		t.Errorf("%s p%g: got %g, want %g", h.Source, 100*q, got, v)
	}
}

// mapText parses an exposition and maps it as server (Unknown: detected)
// at time at.
func mapText(t testing.TB, server Server, text string, at time.Time) *Sample {
	t.Helper()
	f, err := Parse(strings.NewReader(text), 0)
	if err != nil {
		t.Fatal(err)
	}
	return Map(server, f, at)
}

// mapFile maps testdata/file, which must be detected as server.
func mapFile(t *testing.T, file string, server Server) *Sample {
	t.Helper()
	s := Map(Unknown, load(t, file), time.Now())
	if s.Server != server {
		t.Fatalf("%s: detected %q, want %q", file, s.Server, server)
	}
	return s
}

// wantHidden checks that the histograms hs are not exposed and have no
// quantiles.
func wantHidden(t *testing.T, s *Sample, hs ...Hist) {
	t.Helper()
	for _, h := range hs {
		if s.Hist(h).Exposed || !math.IsNaN(s.Hist(h).Quantile(0.5)) {
			t.Errorf("%s exposed: %+v", h, s.Hist(h))
		}
	}
}
