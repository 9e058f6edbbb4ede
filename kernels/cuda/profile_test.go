package cuda

import "testing"

func TestParseCUWindows(t *testing.T) {
	ws, err := parseCUWindows("decode,1,20,3; decode,100,10,2")
	if err != nil || len(ws) != 2 || ws[0].seqs != 1 || ws[0].skip != 20 || ws[0].count != 3 || ws[1].seqs != 100 {
		t.Fatalf("got %+v, %v", ws, err)
	}
	for _, bad := range []string{"", "decode,1,2", "mixed,1,2,3", "decode,x,2,3", "decode,1,-2,3"} {
		if _, err := parseCUWindows(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
