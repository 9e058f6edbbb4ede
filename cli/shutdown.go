package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The one shutdown path. Main watches for SIGINT, SIGTERM and SIGHUP for
// the whole of a command. A command with work to finish takes its context
// (env.context): the first signal cancels it, and the command writes what
// finished (marked partial), releases what it holds and returns; Main
// then exits with 128 + the signal's number (130, 143, 129). A command
// that has not taken its context has nothing to write, so a signal ends it
// at once with that code. A second signal ends any command at once. An
// error takes the same path as a signal: the command writes what
// finished, then Main prints the error and exits with 1.

// stopSignals are the signals that stop a command.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// env is what every command runs with: its output, and the shutdown state.
type env struct {
	stdout, stderr io.Writer
	// terminal is stdout as Main was given it (an *os.File, which Bubble
	// Tea needs to see a terminal); nil: stdout.
	terminal io.Writer

	root   context.Context // cancelled by the first signal
	cancel context.CancelFunc
	exit   func(code int) // os.Exit; tests replace it

	mu       sync.Mutex
	sig      syscall.Signal // the first signal; 0 until one came
	graceful bool           // the command took its context
}

// tty is where the dashboard draws.
func (e *env) tty() io.Writer {
	if e.terminal != nil {
		return e.terminal
	}
	return e.stdout
}

func newEnv(stdout, stderr io.Writer) *env {
	e := &env{stdout: stdout, stderr: stderr, exit: os.Exit}
	e.root, e.cancel = context.WithCancel(context.Background())
	return e
}

// signalled is the error a command returns when a signal stopped it; Main
// turns it into 128 + the signal's number.
type signalled struct{ sig syscall.Signal }

func (s signalled) Error() string { return "stopped by " + signalName(s.sig) }

func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}

// watch handles the stop signals until the returned stop is called.
func (e *env) watch() (stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				e.onSignal(s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { signal.Stop(ch); close(done); e.cancel() }) }
}

// onSignal is the first signal's graceful stop, or an immediate exit.
func (e *env) onSignal(s syscall.Signal) {
	e.mu.Lock()
	first, graceful := e.sig == 0, e.graceful
	if first {
		e.sig = s
	}
	e.mu.Unlock()
	switch {
	case first && graceful:
		fmt.Fprintf(e.stderr, "benchtop: %s: stopping; writing what finished (again to quit at once)\n", signalName(s))
		e.cancel()
	case first:
		e.exit(128 + int(s))
	default:
		fmt.Fprintf(e.stderr, "benchtop: %s again: quitting at once\n", signalName(s))
		e.exit(128 + int(s))
	}
}

// context is the command's context, ended by the first stop signal; from
// this call on, a signal lets the command finish its work instead of
// ending it at once. stop releases the context.
func (e *env) context() (ctx context.Context, stop func()) {
	e.mu.Lock()
	e.graceful = true
	e.mu.Unlock()
	return context.WithCancel(e.root)
}

// signal is the first stop signal, 0 when none came.
func (e *env) signal() syscall.Signal {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sig
}

// interrupted turns err into the signal that caused it, when one did.
func (e *env) interrupted(err error) error {
	if s := e.signal(); s != 0 {
		return signalled{s}
	}
	return err
}

// stoppedBy says what stopped a command early: the signal's name, or the
// error.
func (e *env) stoppedBy(err error) string {
	if s := e.signal(); s != 0 {
		return signalName(s)
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// exitCode prints a command's error and returns its exit code: 0, 128 +
// the signal's number when one stopped it (even when the command then
// finished cleanly), 1 for any other error.
func (e *env) exitCode(command string, err error) int {
	var sig signalled
	if s := e.signal(); s != 0 && !errors.As(err, &sig) {
		err = signalled{s}
	}
	switch {
	case err == nil:
		return 0
	case errors.As(err, &sig):
		fmt.Fprintf(e.stderr, "benchtop %s: %v\n", command, err)
		return 128 + int(sig.sig)
	}
	fmt.Fprintf(e.stderr, "benchtop %s: %v\n", command, err)
	return 1
}
