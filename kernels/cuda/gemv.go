package cuda

import (
	"fmt"
	"slices"

	"benchtop/kernels"
)

// The small-M GEMMs: out = act(x·wᵀ + bias) + residual for x [M, K] with
// M ≤ gemvMaxM (a decode step's tokens), streaming the weights w [N, K] once
// with 16-byte loads. Two kernel families (gemv_simt.cu on CUDA cores,
// gemv_mma.cu on tensor cores), each launched with a choice of tile, block
// size and grid split over K. A table measured on the card (gemv_tune.go)
// picks, per shape, the fastest variant that reproduces cuBLAS's result —
// and uses it only where it beats cuBLAS; everything else stays on cuBLAS.

// gemvMaxM is the most rows of x the small-M kernels take.
const gemvMaxM = 64

// gemvMargin: a small-M kernel replaces cuBLAS at a shape only when it takes
// at most this fraction of cuBLAS's time there, so timing noise cannot pick
// the slower kernel.
const gemvMargin = 0.95

// Split-K workspace: the partial tiles of one launch and one arrival
// counter per tile. A variant that would need more is not a candidate.
const (
	gemvWSFloats = 4 << 20
	gemvCounters = 1 << 16
)

type gemvFamily uint8

const (
	gemvSIMT gemvFamily = iota // CUDA cores, 16-byte vectors along K (gemv_simt.cu)
	gemvMMA                    // tensor cores, mma.m16n8k16 (gemv_mma.cu)
)

// Out kinds and activations as the kernels number them (gemv.cuh).
const (
	gemvOutT      = 0
	gemvOutF32    = 1
	gemvOutArgmax = 2
)

// gemvVariant is one kernel of the family and its launch geometry.
type gemvVariant struct {
	fam     gemvFamily
	tile    int  // SIMT: tokens a block holds (1, 2, 4); MMA: tiles of 8 tokens (1, 2, 4, 8)
	rows    int  // SIMT: weight rows a block owns (1, 2, 4); MMA: tiles of 16 rows (1, 2)
	warps   int  // warps a block (1 to 8)
	split   int  // blocks each tile's K is split over (grid split-K); 1: none
	aligned bool // 16-byte loads; false: element loads, any K (MMA, tile 8, rows 1 only)
}

// The instantiated template parameters (gemv_simt.cu, gemv_mma.cu).
var (
	simtTiles = []int{1, 2, 4}
	simtRows  = []int{1, 2, 4}
	mmaTiles  = []int{1, 2, 4, 8}
	mmaRows   = []int{1, 2}
	// The element-load MMA kernel exists with one shape only (it serves the
	// rare K that is not a multiple of 8, every M up to 64).
	mmaUnalignedTile = 8
)

// mmaTile is the MMA token tile for m rows: the smallest that holds them.
func mmaTile(m int, aligned bool) int {
	if !aligned {
		if m <= 8*mmaUnalignedTile {
			return mmaUnalignedTile
		}
		return 0
	}
	return smallestTile(m, 8, mmaTiles)
}

func init() {
	var simt, mma []string
	for _, dt := range []kernels.DType{kernels.F16, kernels.BF16} {
		for _, t := range simtTiles {
			for _, r := range simtRows {
				simt = append(simt, gemvVariant{fam: gemvSIMT, tile: t, rows: r, aligned: true}.kernel(dt))
			}
		}
		for _, t := range mmaTiles {
			for _, r := range mmaRows {
				mma = append(mma, gemvVariant{fam: gemvMMA, tile: t, rows: r, aligned: true}.kernel(dt))
			}
		}
		mma = append(mma, gemvVariant{fam: gemvMMA, tile: mmaUnalignedTile, rows: 1}.kernel(dt))
	}
	kernelsIn["gemv_simt"] = simt
	kernelsIn["gemv_mma"] = mma
	kernelsIn["gemv_epilogue"] = []string{"linear_epilogue_f16", "linear_epilogue_bf16"}
}

func dtypeTag(dt kernels.DType) string {
	if dt == kernels.BF16 {
		return "bf16"
	}
	return "f16"
}

// kernel is the entry point of v for elements of dt.
func (v gemvVariant) kernel(dt kernels.DType) string {
	if v.fam == gemvSIMT {
		return fmt.Sprintf("gemv_simt_%s_m%d_r%d", dtypeTag(dt), v.tile, v.rows)
	}
	s := fmt.Sprintf("gemv_mma_%s_t%d_r%d", dtypeTag(dt), v.tile, v.rows)
	if !v.aligned {
		s += "_u"
	}
	return s
}

func (v gemvVariant) String() string {
	fam, t := "simt", "m"
	if v.fam == gemvMMA {
		fam, t = "mma", "t"
	}
	s := fmt.Sprintf("%s %s%d r%d w%d s%d", fam, t, v.tile, v.rows, v.warps, v.split)
	if !v.aligned {
		s += " u"
	}
	return s
}

// tileRows is how many output columns (weight rows) a block owns.
func (v gemvVariant) tileRows() int {
	if v.fam == gemvMMA {
		return 16 * v.rows
	}
	return v.rows
}

// kUnit is the step along K a split is counted in: a 16-byte vector (SIMT)
// or a 64-element chunk (MMA).
func (v gemvVariant) kUnit() int {
	if v.fam == gemvMMA {
		return 64
	}
	return 8
}

// maxM is the most rows of x v takes.
func (v gemvVariant) maxM() int {
	if v.fam == gemvMMA {
		return 8 * v.tile
	}
	return v.tile
}

// geometry is v's grid for an m×n×k product: tiles along N, the effective
// split along K (never an empty slice) and the K units each slice covers.
func (v gemvVariant) geometry(n, k int) (tiles, split, splitLen int) {
	tiles = ceilDiv(n, v.tileRows())
	units := ceilDiv(k, v.kUnit())
	splitLen = ceilDiv(units, max(v.split, 1))
	return tiles, ceilDiv(units, splitLen), splitLen
}

// workspace is the split-K partial floats and counters v needs at m×n×k.
func (v gemvVariant) workspace(m, n, k int) (floats, counters int) {
	tiles, split, _ := v.geometry(n, k)
	if split == 1 {
		return 0, 0
	}
	return tiles * split * m * v.tileRows(), tiles
}

// fits says whether v can compute an m×n×k product (aligned: K a multiple
// of 8 and 16-byte-aligned operands) within the workspace.
func (v gemvVariant) fits(m, n, k int, aligned bool) bool {
	if m < 1 || m > v.maxM() || n < 1 || k < 1 || v.warps < 1 || v.warps > 8 || v.split < 1 {
		return false
	}
	if v.aligned && !aligned || !v.aligned && (v.fam == gemvSIMT || v.rows != 1 || v.tile != mmaUnalignedTile) {
		return false
	}
	f, c := v.workspace(m, n, k)
	return f <= gemvWSFloats && c <= gemvCounters
}

// smallestTile is the first tile in tiles that holds m rows (per is the rows
// one tile unit holds); 0 when none does.
func smallestTile(m, per int, tiles []int) int {
	for _, t := range tiles {
		if t*per >= m {
			return t
		}
	}
	return 0
}

// gemvCandidates lists the variants worth timing for an m×n×k product on a
// card with sms multiprocessors: the smallest token tile that holds m, each
// row tile and block size, and grid splits over K where there are too few
// tiles to fill the card (at most 4 blocks per multiprocessor). Every warp
// (SIMT: every thread) gets at least one K unit; a split that would come out
// the same as a smaller one is left out.
func gemvCandidates(m, n, k int, aligned bool, sms int) []gemvVariant {
	var out []gemvVariant
	add := func(v gemvVariant) {
		tiles, split, splitLen := v.geometry(n, k)
		if split != v.split || !v.fits(m, n, k, aligned) {
			return
		}
		if split > 1 && (tiles >= 2*sms || tiles*split > 4*sms) {
			return
		}
		work := splitLen // K units a block's warps (SIMT: threads) share
		if v.fam == gemvSIMT {
			work = max(splitLen, 32)
			if 32*v.warps > work {
				return
			}
		} else if v.warps > work {
			return
		}
		out = append(out, v)
	}
	splits := []int{1, 2, 4, 8, 16, 32}
	if t := mmaTile(m, aligned); t > 0 {
		rows := mmaRows
		if !aligned {
			rows = []int{1}
		}
		for _, r := range rows {
			for _, w := range []int{1, 2, 4, 8} {
				for _, s := range splits {
					add(gemvVariant{fam: gemvMMA, tile: t, rows: r, warps: w, split: s, aligned: aligned})
				}
			}
		}
	}
	if t := smallestTile(m, 1, simtTiles); t > 0 && aligned {
		for _, r := range simtRows {
			for _, w := range []int{1, 2, 4, 8} {
				for _, s := range splits {
					add(gemvVariant{fam: gemvSIMT, tile: t, rows: r, warps: w, split: s, aligned: true})
				}
			}
		}
	}
	return out
}

// gemvTiming is one variant's measured time at a shape, and whether its
// result matched cuBLAS's.
type gemvTiming struct {
	v       gemvVariant
	us      float64 // µs a launch
	matched bool
}

// gemvPick returns the fastest variant whose result matched cuBLAS's, and
// whether it beats cuBLAS (cublasUs) by the margin, which is what Linear
// asks before running it.
func gemvPick(cublasUs float64, timed []gemvTiming) (best gemvTiming, found, use bool) {
	for _, t := range timed {
		if t.matched && t.us > 0 && (!found || t.us < best.us) {
			best, found = t, true
		}
	}
	return best, found, found && cublasUs > 0 && best.us <= gemvMargin*cublasUs
}

// rankTimings sorts timings fastest first (unmeasured last), stably.
func rankTimings(ts []gemvTiming) {
	slices.SortStableFunc(ts, func(a, b gemvTiming) int {
		switch {
		case a.us <= 0 && b.us <= 0:
			return 0
		case a.us <= 0:
			return 1
		case b.us <= 0:
			return -1
		case a.us < b.us:
			return -1
		case a.us > b.us:
			return 1
		}
		return 0
	})
}
