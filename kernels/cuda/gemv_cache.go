package cuda

import (
	"encoding/json"
	"fmt"
	"os"

	"benchtop/kernels"
)

// BENCHTOP_GEMV_CACHE names a file that keeps the small-M choice table
// between runs on one card: a run reads the shapes it holds instead of
// timing them again (a start-up saving of seconds when a script starts
// benchtop many times) and writes the table back when it closes. Entries
// from another device name are ignored.
const gemvCacheEnv = "BENCHTOP_GEMV_CACHE"

type gemvCacheFile struct {
	Device  string           `json:"device"`
	Entries []gemvCacheEntry `json:"entries"`
}

type gemvCacheVariant struct {
	Fam     gemvFamily `json:"fam"`
	Tile    int        `json:"tile"`
	Rows    int        `json:"rows"`
	Warps   int        `json:"warps"`
	Split   int        `json:"split"`
	Aligned bool       `json:"aligned"`
}

type gemvCacheTiming struct {
	V       gemvCacheVariant `json:"v"`
	Us      float64          `json:"us"`
	Matched bool             `json:"matched"`
}

type gemvCacheEntry struct {
	DT, Out  kernels.DType
	M, N, K  int
	Aligned  bool
	Best     gemvCacheVariant  `json:"best"`
	Found    bool              `json:"found"`
	Use      bool              `json:"use"`
	CublasUs float64           `json:"cublas_us"`
	GemvUs   float64           `json:"gemv_us"`
	Timings  []gemvCacheTiming `json:"timings"`
	Note     string            `json:"note"`
}

func toCacheVariant(v gemvVariant) gemvCacheVariant {
	return gemvCacheVariant{v.fam, v.tile, v.rows, v.warps, v.split, v.aligned}
}

func (c gemvCacheVariant) variant() gemvVariant {
	return gemvVariant{fam: c.Fam, tile: c.Tile, rows: c.Rows, warps: c.Warps, split: c.Split, aligned: c.Aligned}
}

// loadGemvCache fills st.table from the cache file, if one is named and
// holds this device's table.
func (b *Backend) loadGemvCache(st *gemvState) {
	path := os.Getenv(gemvCacheEnv)
	if path == "" {
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return // none yet
	}
	var f gemvCacheFile
	if err := json.Unmarshal(raw, &f); err != nil || f.Device != b.name {
		return
	}
	for _, e := range f.Entries {
		c := &gemvChoice{best: e.Best.variant(), found: e.Found, use: e.Use, cublasUs: e.CublasUs, gemvUs: e.GemvUs, note: e.Note}
		for _, t := range e.Timings {
			c.timings = append(c.timings, gemvTiming{v: t.V.variant(), us: t.Us, matched: t.Matched})
		}
		st.table[gemvKey{dt: e.DT, out: e.Out, m: e.M, n: e.N, k: e.K, aligned: e.Aligned}] = c
	}
}

// saveGemvCache writes the table to the cache file, if one is named.
func (b *Backend) saveGemvCache() error {
	path := os.Getenv(gemvCacheEnv)
	if path == "" || b.gemv == nil || len(b.gemv.table) == 0 {
		return nil
	}
	f := gemvCacheFile{Device: b.name}
	for k, c := range b.gemv.table {
		e := gemvCacheEntry{DT: k.dt, Out: k.out, M: k.m, N: k.n, K: k.k, Aligned: k.aligned, Best: toCacheVariant(c.best),
			Found: c.found, Use: c.use, CublasUs: c.cublasUs, GemvUs: c.gemvUs, Note: c.note}
		for _, t := range c.timings {
			e.Timings = append(e.Timings, gemvCacheTiming{V: toCacheVariant(t.v), Us: t.us, Matched: t.matched})
		}
		f.Entries = append(f.Entries, e)
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", raw, 0o644); err != nil {
		return fmt.Errorf("small-M choice cache: %w", err)
	}
	return os.Rename(path+".tmp", path)
}
