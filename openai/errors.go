package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
)

// ErrorKind says how a request failed. Failed requests are counted by kind.
type ErrorKind int

const (
	KindNone        ErrorKind = iota
	KindRequest               // the request could not be built; nothing was sent
	KindConnect               // no connection: refused, unreachable, name not resolved
	KindHTTP4xx               // an HTTP 4xx other than 429
	KindHTTP429               // HTTP 429 Too Many Requests
	KindHTTP5xx               // an HTTP 5xx
	KindStreamError           // an error event or error object after HTTP 200
	KindDropped               // the connection broke, or the stream ended before [DONE]
	KindTimeout               // a deadline passed: connect, headers, first chunk, or the gap between chunks
	KindMalformed             // the server sent something that is not the protocol
	KindTooLarge              // a line or the whole response is over its size limit
	KindCanceled              // the caller's context ended
)

var kindNames = [...]string{"", "request", "connect", "http_4xx", "http_429", "http_5xx",
	"stream_error", "dropped", "timeout", "malformed", "too_large", "canceled"}

// String is the kind's snake_case name, as reports and JSON carry it.
func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Kinds lists every failure kind, in order, for tables that count them.
func Kinds() []ErrorKind {
	out := make([]ErrorKind, 0, len(kindNames)-1)
	for k := KindRequest; int(k) < len(kindNames); k++ {
		out = append(out, k)
	}
	return out
}

// Error is a failed request: its kind, the HTTP status when there was one,
// and the server's message (cut to a few hundred bytes). It never holds the
// API key or request headers.
type Error struct {
	Kind    ErrorKind
	Status  int // HTTP status; 0 when none was received
	Message string
	Err     error // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a client error: KindNone for nil (a nil *Error
// included), KindMalformed for an error that is not an *Error.
func KindOf(err error) ErrorKind {
	if err == nil {
		return KindNone
	}
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			return KindNone
		}
		return e.Kind
	}
	return KindMalformed
}

// KindOrNone is the kind of the failure; KindNone for a nil *Error.
func (e *Error) KindOrNone() ErrorKind {
	if e == nil {
		return KindNone
	}
	return e.Kind
}

// Sentinel causes the client cancels its request context with, so that a
// read interrupted by them is classified as a timeout, not a drop.
var (
	errHeaderTimeout     = errors.New("no response headers within the header timeout")
	errFirstChunkTimeout = errors.New("no chunk within the first-chunk timeout")
	errIdleTimeout       = errors.New("no data within the idle timeout between chunks")
)

// classify turns a transport or read error into an *Error. ctx is the
// request's context (its cause says whether our own timer fired); sent says
// whether the response had started (a failure after it is a drop).
func classify(ctx context.Context, err error, started bool) *Error {
	if cause := context.Cause(ctx); cause != nil {
		switch {
		case errors.Is(cause, errHeaderTimeout), errors.Is(cause, errFirstChunkTimeout), errors.Is(cause, errIdleTimeout):
			return &Error{Kind: KindTimeout, Err: cause}
		case errors.Is(cause, context.DeadlineExceeded):
			return &Error{Kind: KindTimeout, Err: cause}
		case errors.Is(cause, context.Canceled):
			return &Error{Kind: KindCanceled, Err: cause}
		default:
			return &Error{Kind: KindCanceled, Err: cause}
		}
	}
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Kind: KindTimeout, Err: err}
	case !started && isConnectError(err):
		return &Error{Kind: KindConnect, Err: err}
	case started, errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return &Error{Kind: KindDropped, Err: err}
	}
	return &Error{Kind: KindConnect, Err: err}
}

// isConnectError says whether err happened while connecting.
func isConnectError(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de) || errors.Is(err, syscall.ECONNREFUSED)
}

// statusError builds the error of a non-2xx response from its status and
// (size-limited) body, taking the message from OpenAI's {"error": {...}},
// vLLM's older {"object": "error", "message": ...} or TGI's {"error": "..."}.
func statusError(status int, body []byte) *Error {
	kind := KindHTTP4xx
	switch {
	case status == http.StatusTooManyRequests:
		kind = KindHTTP429
	case status >= 500:
		kind = KindHTTP5xx
	case status < 400:
		kind = KindMalformed // 1xx/3xx that the client did not follow
	}
	msg := ""
	if len(bytes.TrimSpace(body)) > 0 {
		msg = errorMessage(body)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{Kind: kind, Status: status, Message: msg}
}

// errorMessage extracts a message from an error payload, or returns a
// trimmed excerpt of it; "" when there is nothing.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		var d ErrorDetail
		var s string
		switch {
		case json.Unmarshal(v.Error, &d) == nil && d.Message != "":
			return truncate(d.Message, 400)
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return truncate(s, 400)
		case v.Message != "":
			return truncate(v.Message, 400)
		}
	}
	return truncate(fmt.Sprintf("%q", bytesTrim(body, 200)), 240)
}

// streamErrorOf says whether a chunk is an error object, and its message.
// {"error": null} is not one.
func streamErrorOf(data []byte) (string, bool) {
	var v struct {
		Error  json.RawMessage `json:"error"`
		Object string          `json:"object"`
	}
	if json.Unmarshal(data, &v) != nil {
		return "", false
	}
	if (len(v.Error) > 0 && string(v.Error) != "null") || v.Object == "error" {
		return errorMessage(data), true
	}
	return "", false
}

func bytesTrim(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
