package openai

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readAll(t testing.TB, in string, maxLine int) ([]SSEEvent, error) {
	t.Helper()
	r := NewSSEReader(strings.NewReader(in), maxLine)
	var out []SSEEvent
	for i := 0; ; i++ {
		if i > len(in)+1 {
			t.Fatalf("more events than bytes: the reader loops")
		}
		ev, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string // name|data per event
	}{
		{"lf", "data: a\n\ndata: b\n\n", []string{"|a", "|b"}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"|a", "|b"}},
		{"cr", "data: a\r\rdata: b\r\r", []string{"|a", "|b"}},
		{"no space after colon", "data:a\n\n", []string{"|a"}},
		{"only the first space is dropped", "data:  a\n\n", []string{"| a"}},
		{"comments are skipped", ": keep-alive\ndata: a\n: another\n\n", []string{"|a"}},
		{"multi-line data", "data: {\"a\":\ndata: 1}\n\n", []string{"|{\"a\":\n1}"}},
		{"named event", "event: error\ndata: boom\n\ndata: next\n\n", []string{"error|boom", "|next"}},
		{"event without data is dropped with its name", "event: x\n\ndata: y\n\n", []string{"|y"}},
		{"done", "data: {\"x\":1}\n\ndata: [DONE]\n\n", []string{"|{\"x\":1}", "|[DONE]"}},
		{"no final newline", "data: a\n\ndata: [DONE]", []string{"|a", "|[DONE]"}},
		{"no final blank line", "data: a\n\ndata: [DONE]\n", []string{"|a", "|[DONE]"}},
		{"crlf split between reads", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"|a", "|b"}},
		{"empty data line", "data\n\n", []string{"|"}},
		{"unknown fields and retry are ignored", "retry: 10\nfoo: bar\ndata: a\n\n", []string{"|a"}},
		{"blank lines alone", "\n\n\r\n", nil},
		{"empty", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readAll(t, c.in, 1<<10)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, ev := range got {
				s = append(s, ev.Name+"|"+string(ev.Data))
			}
			if strings.Join(s, "\x00") != strings.Join(c.want, "\x00") {
				t.Fatalf("got %q, want %q", s, c.want)
			}
		})
	}
}

// A reader that hands out one byte at a time splits every CRLF across two
// reads: the lines must come out the same.
func TestSSEReaderOneByteReads(t *testing.T) {
	in := "data: a\r\n\r\n: c\r\ndata: b\r\ndata: c\r\n\r\n"
	r := NewSSEReader(iotest.OneByteReader(strings.NewReader(in)), 1<<10)
	var got []string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(ev.Data))
	}
	if strings.Join(got, "|") != "a|b\nc" {
		t.Fatalf("got %q", got)
	}
}

func TestSSEReaderLineLimit(t *testing.T) {
	_, err := readAll(t, "data: "+strings.Repeat("x", 500)+"\n\n", 100)
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("got %v, want ErrLineTooLong", err)
	}
}

func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewSSEReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)), 1<<10)
	if ev, err := r.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("first event: %q %v", ev.Data, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read error", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after an error: %v, want EOF", err)
	}
}

// FuzzSSE: any input ends in EOF or an error within a bounded number of
// events, never panics, and reads the same whichever line end it uses.
func FuzzSSE(f *testing.F) {
	for _, s := range []string{
		"data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]\n\n",
		"event: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n",
		": ping\r\ndata: a\r\ndata: b\r\n\r\n",
		"data: a\rdata: b\r\r",
		"data: [DONE]",
		"id: 7\nretry: 5\ndata\n\n",
		"\x00data:\xff\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, err := readAll(t, string(in), 256)
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			t.Fatalf("unexpected error %v", err)
		}
		for _, ev := range evs {
			if ev.Data == nil {
				t.Fatal("nil data")
			}
		}
		if err != nil || bytes.ContainsRune(in, '\r') {
			return
		}
		// The same stream with CRLF line ends gives the same events.
		crlf := bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n"))
		evs2, err2 := readAll(t, string(crlf), 512)
		if err2 != nil {
			return // a line may now be over the limit
		}
		if len(evs) != len(evs2) {
			t.Fatalf("LF gave %d events, CRLF %d", len(evs), len(evs2))
		}
		for i := range evs {
			if !bytes.Equal(evs[i].Data, evs2[i].Data) || evs[i].Name != evs2[i].Name {
				t.Fatalf("event %d: LF %q/%q, CRLF %q/%q", i, evs[i].Name, evs[i].Data, evs2[i].Name, evs2[i].Data)
			}
		}
	})
}
