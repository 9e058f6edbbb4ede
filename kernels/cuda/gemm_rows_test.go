package cuda

import (
	"fmt"
	"testing"
)

func TestGemmRowBuckets(t *testing.T) {
	for n, want := range map[int]int{1: 1, 3: 4, 5: 8, 100: 104, 256: 256, 257: 384, 900: 1024, 2048: 2048, 2049: 2560, 8192: 8192} {
		if got := gemmRowBucket(n); got != want {
			t.Errorf("gemmRowBucket(%d) = %d, want %d", n, got, want)
		}
	}
	got := fmt.Sprint((&Backend{}).WarmTokenCounts(3000))
	if want := "[384 512 640 768 896 1024 1152 1280 1408 1536 1664 1792 1920 2048 2560 3000]"; got != want {
		t.Errorf("WarmTokenCounts(3000) = %s, want %s", got, want)
	}
	x := &Tensor{shape: []int{900, 8}, capRows: 8192}
	if r := gemmRows(900, x, &Tensor{shape: []int{900, 8}, capRows: 1000}); r != 900 {
		t.Errorf("rows past a buffer's end: %d", r)
	}
	if r := gemmRows(900, x, x); r != 1024 {
		t.Errorf("gemmRows = %d, want 1024", r)
	}
}
