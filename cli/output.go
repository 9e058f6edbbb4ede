package cli

import (
	"errors"
	"io"
	"io/fs"
	"sync"
)

// checkedWriter is standard output as every command writes it: writes
// pass through, and the first error is kept (and returned from then on),
// so that output lost to a full disk, a closed pipe or a closed descriptor
// fails the command even where the code that printed ignored the error
// (fmt.Fprintf, a table's Print). Main checks it once, after the command.
type checkedWriter struct {
	w   io.Writer
	mu  sync.Mutex
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	c.err = err
	return n, err
}

// failed is the write error, as the user should read it ("writing to
// standard output: no space left on device"), or nil.
func (c *checkedWriter) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return nil
	}
	err := c.err
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err // "write /dev/stdout: " says less than what follows
	}
	return &outputError{err: err, orig: c.err}
}

// outputError is a lost write to standard output.
type outputError struct{ err, orig error }

func (o *outputError) Error() string { return "writing to standard output: " + o.err.Error() }
func (o *outputError) Unwrap() error { return o.orig }

// withOutput adds a failed write to a command's result: the clear message
// replaces an error that only reports the same write, and joins any other.
func (c *checkedWriter) withOutput(err error) error {
	out := c.failed()
	switch {
	case out == nil:
		return err
	case err == nil || errors.Is(err, out.(*outputError).orig):
		return out
	}
	return errors.Join(err, out)
}
