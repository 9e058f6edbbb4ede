package cuda

import (
	"path/filepath"
	"reflect"
	"testing"

	"benchtop/kernels"
)

// TestGemvCacheRoundTrip: a saved choice table loads back as it was, and a
// table saved on another device is ignored.
func TestGemvCacheRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gemv.json")
	t.Setenv(gemvCacheEnv, path)
	v := gemvVariant{fam: gemvSIMT, tile: 2, rows: 4, warps: 3, split: 7, aligned: true}
	key := gemvKey{dt: kernels.BF16, out: kernels.F32, m: 2, n: 50272, k: 768, aligned: true}
	c := &gemvChoice{best: v, found: true, use: true, cublasUs: 4.5, gemvUs: 3.25, note: "n",
		timings: []gemvTiming{{v: v, us: 3.25, matched: true}, {v: gemvVariant{fam: gemvMMA, tile: 1, rows: 2, warps: 8, split: 1}, us: 9}}}
	b := &Backend{name: "card", gemv: &gemvState{table: map[gemvKey]*gemvChoice{key: c}}}
	if err := b.saveGemvCache(); err != nil {
		t.Fatal(err)
	}
	st := &gemvState{table: map[gemvKey]*gemvChoice{}}
	b.loadGemvCache(st)
	if got := st.table[key]; !reflect.DeepEqual(got, c) {
		t.Fatalf("loaded %+v, saved %+v", got, c)
	}
	other := &gemvState{table: map[gemvKey]*gemvChoice{}}
	(&Backend{name: "another card"}).loadGemvCache(other)
	if len(other.table) != 0 {
		t.Fatalf("another device's table was loaded")
	}
}
