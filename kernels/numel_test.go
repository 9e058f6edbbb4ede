package kernels

import "testing"

func TestNumelNeverOverflows(t *testing.T) {
	cases := []struct {
		shape []int
		want  int
	}{
		{[]int{3, 4}, 12}, {nil, 1}, {[]int{0, 1 << 62}, 0}, {[]int{1 << 40, 1 << 40}, -1},
		{[]int{-2, -3}, -1}, {[]int{1 << 24, 1 << 24}, 1 << 48}, {[]int{1<<24 + 1, 1 << 24}, -1},
	}
	for _, c := range cases {
		if got := Numel(c.shape); got != c.want {
			t.Errorf("Numel(%v) = %d, want %d", c.shape, got, c.want)
		}
	}
}
