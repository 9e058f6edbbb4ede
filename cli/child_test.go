package cli

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// child is benchtop run as a child process (this test binary in its child
// mode, BENCHTOP_CLI_CHILD),
// its stderr read line by line as it comes.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	lines  []string
	done   chan struct{}
	code   int
}

// startChild starts benchtop with args; stdin and stdout are tty when it
// is set (the dashboard), else stdout is kept.
func startChild(t *testing.T, tty *os.File, args ...string) *child {
	t.Helper()
	c := &child{t: t, done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), "BENCHTOP_CLI_CHILD="+strings.Join(args, " "), "TERM=xterm-256color")
	if tty != nil {
		c.cmd.Stdin, c.cmd.Stdout = tty, tty
		c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		c.cmd.Stdout = &c.stdout
	}
	errPipe, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
		}
		err := c.cmd.Wait()
		c.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			c.code = ee.ExitCode()
			if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
				c.code = 128 + int(ws.Signal()) // killed by the signal's default action
			}
		}
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// stderr is what the child wrote to stderr so far.
func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// waitLine waits for a stderr line that ok accepts.
func (c *child) waitLine(what string, timeout time.Duration, ok func(line string) bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	seen := 0
	for time.Now().Before(deadline) {
		c.mu.Lock()
		lines := c.lines[seen:]
		seen = len(c.lines)
		c.mu.Unlock()
		for _, l := range lines {
			if ok(l) {
				return
			}
		}
		select {
		case <-c.done:
			c.t.Fatalf("benchtop exited (%d) before %s:\n%s", c.code, what, c.stderr())
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.t.Fatalf("timed out waiting for %s:\n%s", what, c.stderr())
}

func (c *child) signal(s syscall.Signal) {
	if err := c.cmd.Process.Signal(s); err != nil {
		c.t.Fatal(err)
	}
}

// wait waits for the exit and returns its code.
func (c *child) wait(timeout time.Duration) int {
	c.t.Helper()
	select {
	case <-c.done:
		return c.code
	case <-time.After(timeout):
		c.cmd.Process.Kill()
		<-c.done
		c.t.Fatalf("benchtop did not exit within %s:\n%s", timeout, c.stderr())
		return 0
	}
}

// openPTY opens a pseudo-terminal of rows × cols: the terminal side for
// the child, and the other side, whose output is drained (and kept) so
// that the child never blocks writing to it; hangup closes that side, as
// a terminal emulator closing its window does.
func openPTY(t *testing.T, rows, cols uint16) (tty *os.File, screen func() string, hangup func()) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	master := os.NewFile(uintptr(mfd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 1<<15)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			if out.Len() > 1<<20 {
				out.Next(out.Len() - 1<<19)
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	var once sync.Once
	hangup = func() { once.Do(func() { master.Close() }) }
	t.Cleanup(func() { tty.Close(); hangup() })
	return tty, func() string { mu.Lock(); defer mu.Unlock(); return out.String() }, hangup
}
