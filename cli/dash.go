package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"benchtop/report"
	"benchtop/session"
	"benchtop/snapshot"
	"benchtop/tui"
)

// runDash starts the live dashboard over a workload kept running.
func runDash(args []string, stdout, stderr io.Writer) error {
	var dir string
	var wf workloadFlags
	var onExit, headless bool
	var duration time.Duration
	_, opts, err := setup("dash", args, stderr, func(fs *flag.FlagSet) {
		wf.register(fs, "bench")
		fs.StringVar(&dir, "snapshot-dir", ".", "folder snapshots are written to")
		fs.BoolVar(&onExit, "snapshot-on-exit", false, "write a snapshot when quitting")
		fs.DurationVar(&duration, "duration", 0, "quit after this long and print the output tokens/s of the run (0: run until q)")
		fs.BoolVar(&headless, "headless", false, "run the same workload loop without drawing (with --duration: the baseline for the dashboard's cost)")
	}, &wf)
	if err != nil {
		return err
	}
	if duration < 0 || (headless && duration == 0) {
		return fmt.Errorf("--duration %s: must be positive (and set with --headless)", duration)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("--snapshot-dir %s is not a folder", dir)
	}
	if err := report.CheckWritable(dir + "/probe"); err != nil {
		return fmt.Errorf("--snapshot-dir: %w", err)
	}
	if !headless {
		if err := needTerminal(); err != nil {
			return err
		}
	}
	opts.Progress = false // the dashboard is the progress
	opts.Ceilings = true
	s, err := session.Open(opts)
	if err != nil {
		return err
	}
	w, err := wf.build(s)
	if err != nil {
		s.Close()
		return err
	}
	if err := s.Start(w); err != nil {
		s.Close()
		return err
	}
	start := time.Now()
	var runErr error
	if headless {
		time.Sleep(duration)
	} else {
		m := tui.New(s)
		m.SnapshotDir = dir
		p := tea.NewProgram(m, tea.WithInput(os.Stdin), tea.WithOutput(stdout))
		if duration > 0 {
			go func() { time.Sleep(duration); p.Quit() }()
		}
		_, runErr = p.Run()
	}
	if duration > 0 {
		if f := s.Frame(); f.Metrics != nil {
			elapsed := time.Since(start)
			fmt.Fprintf(stderr, "benchtop: %s for %s (headless %v): %d output tokens, %.1f output tok/s\n",
				w.Name, elapsed.Round(time.Millisecond), headless, f.Metrics.OutputTokens, float64(f.Metrics.OutputTokens)/elapsed.Seconds())
		}
	}
	var files []string
	var snapErr error
	if onExit {
		files, snapErr = s.Snapshot(dir)
	}
	closeErr := s.Close()
	if runErr != nil {
		return fmt.Errorf("dashboard: %w", runErr)
	}
	if snapErr != nil {
		return snapErr
	}
	for _, f := range files {
		fmt.Fprintf(stderr, "benchtop: wrote %s\n", f)
	}
	return closeErr
}

// runView reopens a snapshot in the dashboard, read-only.
func runView(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("view", stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: benchtop view SNAPSHOT.json")
		return errUsage
	}
	path := fs.Arg(0)
	f, err := snapshot.Read(path)
	if err != nil {
		return err
	}
	if err := needTerminal(); err != nil {
		return err
	}
	_, err = tea.NewProgram(tui.NewViewer(session.FrameOf(f, path)), tea.WithInput(os.Stdin), tea.WithOutput(stdout)).Run()
	if errors.Is(err, tea.ErrProgramKilled) {
		return nil
	}
	return err
}

// needTerminal fails clearly where the dashboard cannot draw: standard input
// and output must be a terminal.
func needTerminal() error {
	if term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd()) {
		return nil
	}
	return errors.New("the dashboard needs a terminal (standard input and output are not one); " +
		"headless: benchtop bench, run or sweep, or benchtop dash --headless --duration 30s")
}
