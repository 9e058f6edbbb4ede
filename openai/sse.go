package openai

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong is returned by SSEReader.Next when one line of the stream
// is longer than the reader's limit.
var ErrLineTooLong = errors.New("server-sent event line too long")

// SSEEvent is one dispatched server-sent event: its data lines joined with
// "\n", the name from an "event:" field (empty for the default "message"),
// and the last "id:" seen.
type SSEEvent struct {
	Name string
	Data []byte
	ID   string
}

// SSEReader reads server-sent events (the WHATWG "text/event-stream" format
// that OpenAI-compatible servers stream): "data:" lines, "event:" and "id:"
// fields, comments (lines starting with ':'), data split over several lines,
// LF, CRLF or CR line ends. It is lenient where servers are sloppy: an event
// still pending when the stream ends without its blank line is dispatched
// (the specification drops it; a server that closes right after its last
// "data: [DONE]" would lose it).
type SSEReader struct {
	sc      *bufio.Scanner
	data    bytes.Buffer
	hasData bool
	name    string
	id      string
	eof     bool
	maxLine int
}

// NewSSEReader reads events from r; maxLine bounds one line in bytes (a
// longer one is ErrLineTooLong), so a server cannot make the reader buffer
// without limit.
func NewSSEReader(r io.Reader, maxLine int) *SSEReader {
	if maxLine < 64 {
		maxLine = 64
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(maxLine, 4096)), maxLine)
	sc.Split(splitLines)
	return &SSEReader{sc: sc, maxLine: maxLine}
}

// splitLines splits at LF, CRLF or a lone CR, without the line end.
func splitLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // a CR at the end of the buffer: is an LF next?
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil // the last line, without its line end
	}
	return 0, nil, nil
}

// Next returns the next event. At the end of the stream it returns io.EOF;
// a read error or an over-long line comes back wrapped (ErrLineTooLong).
// The returned Data is the reader's own copy.
func (r *SSEReader) Next() (SSEEvent, error) {
	for !r.eof {
		if !r.sc.Scan() {
			r.eof = true
			if err := r.sc.Err(); err != nil {
				r.hasData = false // an event cut by a failed read is not dispatched
				if errors.Is(err, bufio.ErrTooLong) {
					return SSEEvent{}, fmt.Errorf("%w (limit %d bytes)", ErrLineTooLong, r.maxLine)
				}
				return SSEEvent{}, err
			}
			break
		}
		line := r.sc.Bytes()
		if len(line) == 0 {
			if ev, ok := r.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue // a comment (servers send them as keep-alives)
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if r.hasData {
				r.data.WriteByte('\n')
			}
			r.data.Write(value)
			r.hasData = true
		case "event":
			r.name = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.id = string(value)
			}
		}
		// "retry" and unknown fields are ignored, as the specification says.
	}
	if ev, ok := r.dispatch(); ok {
		return ev, nil
	}
	return SSEEvent{}, io.EOF
}

// dispatch hands out the pending event, if it has data; an event without
// data is dropped (and its name reset), as the specification says.
func (r *SSEReader) dispatch() (SSEEvent, bool) {
	name := r.name
	r.name = ""
	if !r.hasData {
		return SSEEvent{}, false
	}
	ev := SSEEvent{Name: name, Data: bytes.Clone(r.data.Bytes()), ID: r.id}
	if ev.Data == nil {
		ev.Data = []byte{}
	}
	r.data.Reset()
	r.hasData = false
	return ev, true
}
